#!/bin/sh
# `spinepipe listen` with a real PACS: Orthanc, started here on loopback
# with a temporary config and storage, pushes a series to the listener
# through its REST API (/modalities/{id}/store); our C-STORE SCU sends
# files to Orthanc, checked back through REST; a dead destination fills
# the dead-letter folder. Then a listener with the phantom's truth
# imported (tests/dicomout/truth_table.py) and --send-seg gets the phantom
# series from Orthanc, and its TID 1500 SR and SEG arrive in the phantom's
# study: the SR's values, read through Orthanc's /instances/{id}/tags and
# with dsrdump on the downloaded file, are the truth's. TAP. Servers are
# killed on exit.
set -u
exe=$1
tool=$2
data=$SPINEPIPE_DATA/spine
. "$(dirname "$0")/tap_lib.sh"
# json_get EXPR: evaluate EXPR on the JSON read from stdin (as `j`).
json_get() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }

if ! command -v Orthanc >/dev/null 2>&1; then
    echo "1..1"
    echo "not ok 1 - Orthanc is not installed (scripts/install-deps installs it)"
    exit 1
fi
echo "1..18"

http=$($tool port)
dicom=$($tool port)
port=$($tool port)
api=http://127.0.0.1:$http
python3 - "$tmp" "$http" "$dicom" "$port" <<'PY'
import json, sys
tmp, http, dicom, port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
config = {
    "Name": "spinepipe-test",
    "StorageDirectory": tmp + "/orthanc-storage",
    "IndexDirectory": tmp + "/orthanc-index",
    "HttpPort": http,
    "DicomPort": dicom,
    "DicomAet": "ORTHANC",
    "RemoteAccessAllowed": False,
    "AuthenticationEnabled": False,
    "DicomModalities": {"spinepipe": ["SPINEPIPE", "127.0.0.1", port]},
    "Plugins": [],
}
with open(tmp + "/orthanc.json", "w") as f:
    json.dump(config, f)
PY
Orthanc "$tmp/orthanc.json" >"$tmp/orthanc.log" 2>&1 &
opid=$!
orthanc_up() { curl -sf "$api/system" >/dev/null 2>&1; }
check "Orthanc starts on loopback" wait_for 60 orthanc_up

spool=$tmp/spool
"$exe" listen --port "$port" --spool "$spool" --allow ORTHANC \
    --dest "ORTHANC@127.0.0.1:$dicom" --quiet 2 --idle-timeout 10 \
    >"$tmp/listen.log" 2>&1 &
lpid=$!
echo_ok() { echoscu -aet ORTHANC -aec SPINEPIPE 127.0.0.1 "$port" >/dev/null 2>&1; }
wait_for 20 echo_ok

ct=$data/ct-lumbar-l2-l4-crop/dicom
uploaded=0
for f in "$ct"/*.dcm; do
    curl -sf -X POST --data-binary "@$f" "$api/instances" >/dev/null &&
        uploaded=$((uploaded + 1))
done
check "47 CT instances uploaded to Orthanc over REST" eq "$uploaded" 47
series=$(curl -sf "$api/series" | json_get 'j[0]')
code=$(curl -s -o "$tmp/store.json" -w '%{http_code}' -X POST \
    --data "$series" "$api/modalities/spinepipe/store")
check "Orthanc C-STOREs the series to spinepipe listen (HTTP $code)" \
    [ "$code" = 200 ]
all_done() { [ "$(count "$spool/queue/done" '*.json')" -eq 1 ]; }
check "the listener processed it as one job" wait_for 120 all_done
check "47 instances spooled" eq "$(count "$spool/jobs" '*.dcm')" 47
check "run.json is ok and names the series Orthanc sent" \
    grep -q "\"series_uid\": \"$(uid_of "$(ls "$ct"/*.dcm | head -1)")\"" \
    "$spool"/results/*/*/*/run.json

# The results come back: a Secondary Capture series in the same study.
study=$(curl -sf "$api/series/$series" | json_get 'j["ParentStudy"]')
n_png=$(find "$spool/results" -name '*.png' | wc -l)
sc_series() {
    curl -sf "$api/studies/$study/series" | json_get \
        '",".join(s["ID"] for s in j if s["MainDicomTags"].get("Modality") == "OT")'
}
sc_arrived() { [ -n "$(sc_series)" ]; }
check "a Secondary Capture series arrives in Orthanc, in the source study" \
    wait_for 60 sc_arrived
sc=$(sc_series)
check "it holds one instance per PNG the pipeline wrote ($n_png)" \
    [ "$(curl -sf "$api/series/$sc" | json_get 'len(j["Instances"])')" -eq "$n_png" ]
first=$(curl -sf "$api/series/$sc" | json_get 'j["Instances"][0]')
check "SOP class Secondary Capture, referencing the source series" \
    [ "$(curl -sf "$api/instances/$first/simplified-tags" | json_get \
        'j["SOPClassUID"] + " " + j["ReferencedSeriesSequence"][0]["SeriesInstanceUID"]')" \
      = "1.2.840.10008.5.1.4.1.1.7 $(uid_of "$(ls "$ct"/*.dcm | head -1)")" ]

series_of() { # series_of STUDY MODALITY: Orthanc IDs of such series
    curl -sf "$api/studies/$1/series" | json_get \
        '",".join(s["ID"] for s in j if s["MainDicomTags"].get("Modality") == "'"$2"'")'
}
first_file() { # first_file SERIES OUT: download its first instance
    curl -sf "$api/instances/$(curl -sf "$api/series/$1" | json_get 'j["Instances"][0]')/file" -o "$2"
}
real_sr() {
    [ -n "$(series_of "$study" SR)" ] || return 1
    first_file "$(series_of "$study" SR)" "$tmp/real-sr.dcm" &&
        dsrdump +Pl "$tmp/real-sr.dcm" >/dev/null 2>&1
}
check "an SR arrives in the same study and dsrdump reads it" \
    wait_for 60 real_sr

# Our SCU to Orthanc: the phantom sample series.
sample=$SPINEPIPE_SOURCE_ROOT/sample_dicom/ct-axial
n_sample=$(ls "$sample"/*.dcm | wc -l)
suid=$(uid_of "$(ls "$sample"/*.dcm | head -1)")
"$tool" send "ORTHANC@127.0.0.1:$dicom" "$tmp/dead1" 2 "$sample"/*.dcm
check "C-STORE SCU sent $n_sample instances; Orthanc has them under their series UID" \
    sh -c "[ \"\$(curl -sf -X POST --data '$suid' '$api/tools/lookup' | python3 -c 'import json,sys; j=json.load(sys.stdin); print(len(j) == 1 and j[0][\"Type\"])')\" = Series ] && [ \"\$(curl -sf '$api/series/'\$(curl -sf -X POST --data '$suid' '$api/tools/lookup' | python3 -c 'import json,sys; print(json.load(sys.stdin)[0][\"ID\"])') | python3 -c 'import json,sys; print(len(json.load(sys.stdin)[\"Instances\"]))')\" -eq $n_sample ]"

# A destination that is down: retries, then the dead-letter folder.
mkdir "$tmp/out"
cp "$sample"/*.dcm "$tmp/out/"
closed=$($tool port)
"$tool" send "ORTHANC@127.0.0.1:$closed" "$tmp/dead" 3 "$tmp/out"/*.dcm \
    2>"$tmp/send.err"
rc=$?
check "sending to a closed port fails with exit code 69 after 3 attempts" \
    sh -c "[ $rc -eq 69 ] && [ \$(grep -c 'send attempt' '$tmp/send.err') -eq 3 ]"
check "all $n_sample files moved to the dead-letter folder" \
    sh -c "[ $(count "$tmp/dead" '*.dcm') -eq $n_sample ] && [ $(count "$tmp/out" '*.dcm') -eq 0 ]"

# A listener whose pipeline imports the phantom's truth, sending the SEG.
kill -TERM "$lpid"
wait "$lpid" 2>/dev/null
truth=$SPINEPIPE_SOURCE_ROOT/sample_truth/ct-axial
python3 "$SPINEPIPE_SOURCE_ROOT/tests/dicomout/truth_table.py" \
    "$truth/truth.json" "$tmp/table.json"
cat >"$tmp/truth.ini" <<INI
[pipeline]
name = truth
description = the phantom's truth through import
modality = CT
orientation = any
[window]
[import]
labels = $truth/truth_labels.nii.gz
table = $tmp/table.json
[png]
planes = mid
[report]
[nifti]
artifacts = labels.spine:segmentation.nii.gz
INI
"$exe" listen --port "$port" --spool "$tmp/spool2" --allow ORTHANC \
    --dest "ORTHANC@127.0.0.1:$dicom" --quiet 2 --idle-timeout 10 \
    --config "$tmp/truth.ini" --send-seg >"$tmp/listen2.log" 2>&1 &
lpid=$!
wait_for 20 echo_ok
pseries=$(curl -sf -X POST --data "$suid" "$api/tools/lookup" | json_get 'j[0]["ID"]')
pstudy=$(curl -sf "$api/series/$pseries" | json_get 'j["ParentStudy"]')
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data "$pseries" \
    "$api/modalities/spinepipe/store")
check "Orthanc sends the phantom series to a listener with --send-seg (HTTP $code)" \
    [ "$code" = 200 ]
has_sr_seg() { [ -n "$(series_of "$pstudy" SR)" ] && [ -n "$(series_of "$pstudy" SEG)" ]; }
check "its SR and SEG arrive in Orthanc, in the phantom's study" \
    wait_for 120 has_sr_seg
sr_id=$(curl -sf "$api/series/$(series_of "$pstudy" SR)" | json_get 'j["Instances"][0]')
curl -sf "$api/instances/$sr_id/tags?simplify" >"$tmp/sr-tags.json"
check "Orthanc's tags of the SR: TID 1500, every level's four values equal the truth" \
    python3 - "$tmp/sr-tags.json" "$truth/truth.json" <<'PY'
import json, sys
tags = json.load(open(sys.argv[1]))
truth = json.load(open(sys.argv[2]))
assert tags["ContentTemplateSequence"][0]["TemplateIdentifier"] == "1500"
values = {}
def walk(items, level):
    for it in items:
        name = it.get("ConceptNameCodeSequence", [{}])[0]
        if name.get("CodeValue") == "112039":
            level = it["TextValue"]
        if it.get("ValueType") == "NUM":
            values.setdefault(level, {})[name["CodeValue"]] = float(
                it["MeasuredValueSequence"][0]["NumericValue"])
        level = walk(it.get("ContentSequence", []), level) if it.get(
            "ValueType") == "CONTAINER" else level
    return level
walk(tags["ContentSequence"], None)
keys = {"canal_ap": "canal_ap_mm", "canal_area": "canal_area_mm2",
        "disc_height": "disc_height_mm",
        "post_displace": "posterior_displacement_mm"}
assert len(values) == len(truth["levels"]), values.keys()
for lv in truth["levels"]:
    got = values[lv["level"]]
    for code, key in keys.items():
        assert abs(got[code] - lv[key]) <= 1e-6 * (1 + abs(lv[key])), (
            lv["level"], code, got[code], lv[key])
PY
first_file "$(series_of "$pstudy" SR)" "$tmp/sr.dcm"
dsrdump -v +Pl "$tmp/sr.dcm" >"$tmp/sr.txt" 2>"$tmp/sr.err"
check "the downloaded SR parses with dsrdump (no warning) and flags L4-L5" \
    sh -c "[ $? -eq 0 ] && ! grep -qE '^(W|E|F):' '$tmp/sr.err' &&
           grep -A12 'Tracking Identifier\")=\"L4-L5\"' '$tmp/sr.txt' |
           grep -q 'canal_ap_stenosis\")=(absolute,99SPINEPIPE'"
local_seg=$(find "$tmp/spool2/results" -name seg.dcm | head -1)
seg_id=$(curl -sf "$api/series/$(series_of "$pstudy" SEG)" | json_get 'j["Instances"][0]')
seg_matches() {
    [ -n "$local_seg" ] || return 1
    remote=$(curl -sf "$api/instances/$seg_id/simplified-tags" | json_get \
        '"%s %d" % (j["NumberOfFrames"], len(j["SegmentSequence"]))')
    frames=$(dcmdump -q +P 0028,0008 "$local_seg" | sed 's/.*\[\(.*\)\].*/\1/')
    segments=$(dcmdump -q "$local_seg" | grep -c '(0062,0004)')
    [ "$remote" = "$frames $segments" ] && [ "$frames" -gt 0 ]
}
check "the SEG in Orthanc has the frames and segments written" seg_matches
exit 0

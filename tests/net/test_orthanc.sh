#!/bin/sh
# `spinepipe listen` with a real PACS: Orthanc, started here on loopback
# with a temporary config and storage, pushes a series to the listener
# through its REST API (/modalities/{id}/store); our C-STORE SCU sends
# files to Orthanc, checked back through REST; a dead destination fills
# the dead-letter folder. TAP. Servers are killed on exit.
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
echo "1..12"

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
exit 0

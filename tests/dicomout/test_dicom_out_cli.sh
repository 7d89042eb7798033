#!/bin/sh
# `spinepipe run --dicom-out` end to end on the phantom samples with their
# truth imported (tests/dicomout/truth_table.py): the file set per series,
# SOP classes, study and series numbers, dsrdump reading the SR without a
# warning and showing the truth's L4-L5 values, run.json's record, reruns
# replacing the set, --no-dicom-seg, --anonymize refused, a pipeline
# without analysis, the real abdomen CT's SR coordinates on its key images
# (sr_scoord_check.py), and hostile series descriptions kept out of paths.
# usage: test_dicom_out_cli.sh SPINEPIPE SOURCE_ROOT   (prints TAP)
set -u
exe=$1
src=$2
here=$(dirname "$0")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/../common/tap.sh"
tag() { dcmdump -q -Un +P "$2" "$1" | sed 's/^[^[]*\[\(.*\)\].*/\1/' | head -1; }
echo "1..19"

make_config() { # make_config SAMPLE MODALITY OUT
    python3 "$here/truth_table.py" "$src/sample_truth/$1/truth.json" \
        "$tmp/$1-table.json"
    cat >"$3" <<INI
[pipeline]
name = truth-$1
description = the phantom's truth through import
modality = $2
orientation = any
[window]
[import]
labels = $src/sample_truth/$1/truth_labels.nii.gz
table = $tmp/$1-table.json
[png]
planes = mid
[report]
[nifti]
artifacts = labels.spine:segmentation.nii.gz
INI
}
make_config ct-axial CT "$tmp/ct.ini"
"$exe" run "$src/sample_dicom/ct-axial" -o "$tmp/out" -c "$tmp/ct.ini" \
    --dicom-out "$tmp/dcm" >"$tmp/log" 2>&1
check "run --dicom-out exits 0" [ $? -eq 0 ]
series=$(cd "$tmp/out" && ls -d */*/)
d=$tmp/dcm/$series
n_png=$(ls "$tmp/out/$series" | grep -c '\.png$')
expected=$( (i=1; while [ $i -le "$n_png" ]; do printf 'sc-%04d.dcm\n' $i; i=$((i + 1)); done; echo seg.dcm; echo sr.dcm) | sort)
check "DIR/<study>/<series>/ holds sc-0001..sc-$(printf %04d "$n_png").dcm, sr.dcm, seg.dcm and nothing else" \
    [ "$(ls -A "$d" | sort)" = "$expected" ]
check "no other file anywhere under DIR" \
    [ "$(find "$tmp/dcm" -type f | wc -l)" -eq $((n_png + 2)) ]
src_study=$(tag "$src/sample_dicom/ct-axial/IMG00001.dcm" 0020,000d)
ok=1
for f in "$d"/*.dcm; do
    [ "$(tag "$f" 0020,000d)" = "$src_study" ] || ok=0
done
check "every object is in the source study" [ $ok -eq 1 ]
check "SOP classes: Secondary Capture, Enhanced SR, Segmentation" sh -c "
    [ '$(tag "$d/sc-0001.dcm" 0008,0016)' = 1.2.840.10008.5.1.4.1.1.7 ] &&
    [ '$(tag "$d/sr.dcm" 0008,0016)' = 1.2.840.10008.5.1.4.1.1.88.22 ] &&
    [ '$(tag "$d/seg.dcm" 0008,0016)' = 1.2.840.10008.5.1.4.1.1.66.4 ]"
check "series numbers 990, 991, 992, new series UIDs" sh -c "
    [ '$(tag "$d/sc-0001.dcm" 0020,0011)' = 990 ] &&
    [ '$(tag "$d/sr.dcm" 0020,0011)' = 991 ] &&
    [ '$(tag "$d/seg.dcm" 0020,0011)' = 992 ] &&
    [ '$(tag "$d/sr.dcm" 0020,000e)' != '$(tag "$src/sample_dicom/ct-axial/IMG00001.dcm" 0020,000e)' ]"
dsrdump -v +Pl "$d/sr.dcm" >"$tmp/sr.txt" 2>"$tmp/sr.err"
check "dsrdump reads the SR with no warning or error" \
    sh -c "[ $? -eq 0 ] && ! grep -qE '^(W|E|F):' '$tmp/sr.err'"
ap=$(python3 -c "import json,sys; t=json.load(open(sys.argv[1])); print([l for l in t['levels'] if l['level']=='L4-L5'][0]['canal_ap_mm'])" \
    "$src/sample_truth/ct-axial/truth.json" | sed 's/\.0$//')
check "the SR shows L4-L5 with canal AP $ap mm and an absolute stenosis" sh -c "
    grep -A4 'Tracking Identifier\")=\"L4-L5\"' '$tmp/sr.txt' | grep -q 'anteroposterior diameter\")=\"$ap\" (mm,UCUM' &&
    grep -A10 'Tracking Identifier\")=\"L4-L5\"' '$tmp/sr.txt' | grep -q 'canal_ap_stenosis\")=(absolute,99SPINEPIPE'"
check "the SR carries the disclaimer" \
    grep -q 'Research/triage aid. Not for diagnostic use.' "$tmp/sr.txt"
check "run.json records the objects" python3 - "$tmp/out/$series/run.json" "$n_png" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))["dicom"]
sys.exit(0 if d["secondary_captures"] == int(sys.argv[2]) and d["sr"] and
         d["seg"] and d["seg_frames"] > 0 else 1)
PY
old_sop=$(tag "$d/sr.dcm" 0008,0018)
touch "$d/sc-0999.dcm"
"$exe" run "$src/sample_dicom/ct-axial" -o "$tmp/out" -c "$tmp/ct.ini" \
    --dicom-out "$tmp/dcm" --force --no-dicom-seg >"$tmp/log" 2>&1
check "a rerun with --no-dicom-seg replaces the set: no SEG, no stale SC, new SR" \
    sh -c "[ ! -e '$d/seg.dcm' ] && [ ! -e '$d/sc-0999.dcm' ] && [ -e '$d/sr.dcm' ] &&
           [ '$(tag "$d/sr.dcm" 0008,0018)' != '$old_sop' ]"

"$exe" run "$src/sample_dicom" -o "$tmp/x" --dicom-out "$tmp/y" --anonymize \
    >/dev/null 2>"$tmp/err"
check "--dicom-out with --anonymize is a usage error (64)" \
    sh -c "[ $? -eq 64 ] && grep -q -- '--anonymize' '$tmp/err'"

# The shipped pipelines: an SR per series with one measurement group per
# level of its report.json (or the reason nothing was measured).
"$exe" run "$src/sample_dicom" -o "$tmp/plain" --dicom-out "$tmp/plaindcm" -j 2 \
    >"$tmp/log" 2>&1
check "shipped pipelines on both samples, two at a time, exit 0" [ $? -eq 0 ]
check "two series, each with an SR" \
    [ "$(find "$tmp/plaindcm" -name sr.dcm | wc -l)" -eq 2 ]
sr_like_report() {
    for r in "$tmp"/plain/*/*/report.json; do
        rel=${r#"$tmp/plain/"}
        sr="$tmp/plaindcm/${rel%/report.json}/sr.dcm"
        dsrdump "$sr" >"$tmp/one.txt" 2>/dev/null || return 1
        python3 - "$r" "$tmp/one.txt" <<'PY' || return 1
import json, sys
report = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
groups = text.count('"Tracking Identifier")=')
assert groups == len(report["levels"]), (groups, len(report["levels"]))
if report.get("not_analysable"):
    assert '"Not analysable")=' in text
PY
    done
}
check "their SRs have one measurement group per level of report.json" \
    sr_like_report

# The real abdomen CT through config/ct-lumbar.ini: it measures in planes
# perpendicular to the canal, which no acquired slice holds; the SR places
# each level's canal AP caliper, canal outline and displacement caliper on
# that level's key image (the plane they were measured in).
real=${SPINEPIPE_DATA:-$src/../shared/data}/spine/ct-abdomen-t11-s1/dicom
"$exe" run "$real" -o "$tmp/real" -c "$src/config/ct-lumbar.ini" \
    --dicom-out "$tmp/realdcm" >"$tmp/log" 2>&1
check "the real abdomen CT with --dicom-out exits 0" [ $? -eq 0 ]
rs=$(cd "$tmp/real" && ls -d */*/)
check "its SR, read back, has the AP caliper, the canal outline and the displacement caliper of every level on its key image" \
    python3 "$here/sr_scoord_check.py" "$tmp/real/$rs" "$tmp/realdcm/$rs"

# A hostile series description: folder names stay inside DIR.
mkdir "$tmp/hostile"
cp "$src/sample_dicom/mr-t2-sagittal"/*.dcm "$tmp/hostile/"
dcmodify -q -nb -m "(0008,103e)=../../../escape me" "$tmp/hostile"/*.dcm
"$exe" run "$tmp/hostile" -o "$tmp/hout" --dicom-out "$tmp/hdcm/inner" \
    >"$tmp/log" 2>&1
check "a series described '../../../escape me' runs" [ $? -eq 0 ]
check "its DICOM results stay under DIR in a safe folder name" sh -c "
    [ -z \"\$(find '$tmp/hdcm' -mindepth 1 -maxdepth 1 ! -name inner)\" ] &&
    [ \$(find '$tmp/hdcm/inner' -name sr.dcm | wc -l) -eq 1 ] &&
    find '$tmp/hdcm/inner' -name sr.dcm | grep -q '/[0-9]*_escape_me_[0-9a-f]*/sr.dcm'"

#!/bin/sh
# `spinepipe phantom` end to end: usage errors and their exit codes, a run
# with --json, and the committed sample_dicom/ and sample_truth/ being
# exactly what scripts/make-sample-dicom makes.
# usage: test_phantom_cli.sh SPINEPIPE SOURCE_ROOT   (prints TAP)
set -u
exe=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$2
. "$src/tests/common/tap.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..12"

"$exe" phantom --help >"$tmp/out" 2>&1
check_value "--help exits 0" 0 $?
grep -q -- "--canal-ap" "$tmp/out" && grep -q -- "--herniation" "$tmp/out"
check_value "--help lists the options" 0 $?

"$exe" phantom --output "$tmp/x" --bogus 2>"$tmp/err"
check_value "unknown option exits 64" 64 $?
grep -q "unknown option --bogus$" "$tmp/err"
check_value "message names the option" 0 $?

"$exe" phantom --output "$tmp/x" --canal-ap L9-L9=8 2>"$tmp/err"
check_value "unknown level exits 64" 64 $?

"$exe" phantom --output "$tmp/x" --herniation L4-L5:20 2>"$tmp/err"
rc=$?
grep -q "herniation at L4-L5" "$tmp/err"
check_value "out-of-range herniation exits 64 naming the level" "64 0" "$rc $?"

"$exe" phantom --matrix 32 2>"$tmp/err"
check_value "missing --output exits 64" 64 $?

touch "$tmp/file"
"$exe" phantom --matrix 16 --pixel 5 --slices 2 --output "$tmp/file/sub" \
    2>"$tmp/err"
check_value "unwritable output exits 73" 73 $?

"$exe" phantom --matrix 32 --pixel 4 --slice-thickness 8 --canal-ap 13 \
    --canal-ap L4-L5=8 --herniation L3-L4:4:right --json \
    --output "$tmp/run" >"$tmp/json" 2>"$tmp/err"
check_value "small run exits 0" 0 $?
python3 - "$tmp/json" "$tmp/run" <<'PY'
import json, os, sys
s = json.load(open(sys.argv[1]))
assert s["output"] == sys.argv[2] and s["seconds"] >= 0
t = json.load(open(os.path.join(sys.argv[2], "truth.json")))
lv = {l["level"]: l for l in t["levels"]}
assert lv["L4-L5"]["canal_ap_nominal_mm"] == 8
assert lv["L2-L3"]["canal_ap_nominal_mm"] == 13
assert lv["L3-L4"]["posterior_displacement_mm"] == 4
assert lv["L3-L4"]["herniation_position"] == "right paracentral"
n = len(os.listdir(os.path.join(sys.argv[2], "dicom")))
assert n == t["grid"]["dim"][2], n
PY
check_value "JSON summary, truth.json and one file per slice" 0 $?
[ ! -s "$tmp/err" ]
check_value "nothing on stderr when it is not a terminal" 0 $?

# The label maps are compared decompressed: zlib's bytes are not ours.
same_sample() {
    diff -r "$tmp/sample/sample_dicom" "$src/sample_dicom" || return 1
    for s in ct-axial mr-t2-sagittal; do
        cmp "$tmp/sample/sample_truth/$s/truth.json" \
            "$src/sample_truth/$s/truth.json" || return 1
        gzip -dc "$tmp/sample/sample_truth/$s/truth_labels.nii.gz" \
            >"$tmp/a.nii" && \
            gzip -dc "$src/sample_truth/$s/truth_labels.nii.gz" >"$tmp/b.nii" &&
            cmp "$tmp/a.nii" "$tmp/b.nii" || return 1
    done
}
mkdir "$tmp/sample"
SPINEPIPE="$exe" "$src/scripts/make-sample-dicom" "$tmp/sample" >/dev/null &&
    same_sample >"$tmp/diff" 2>&1
check_value "sample_dicom/ and sample_truth/ are what make-sample-dicom makes" 0 $?

exit $failed

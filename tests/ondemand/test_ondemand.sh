#!/bin/sh
# The on-demand module (pipeline/engine/ondemand.h): a filter pipeline and
# `info` never map it nor the libraries behind it (DCMTK network/TLS/SR/SEG,
# cairo, FreeType); the commands that need it load it (report images,
# --dicom-out, listen); when it is missing each of those fails with a
# message naming the module file, and the others still work.
# usage: test_ondemand.sh SPINEPIPE MODULE SOURCE_ROOT   (prints TAP)
set -u
exe=$1
module=$2
src=$3
here=$(dirname "$0")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$here/../common/tap.sh"
echo "1..12"
ct=$src/sample_dicom/ct-axial
heavy='libdcmnet|libdcmtls|libssl|libcrypto|libdcmsr|libcmr|libdcmseg|libcairo|libfreetype|spinepipe-ondemand'
missing=$tmp/nowhere/spinepipe-ondemand.so

# loaded LOG: the shared objects the dynamic loader initialised (LD_DEBUG).
loaded() { sed -n 's/.*calling init: //p' "$1"; }
maps_none() { ! loaded "$1" | grep -Eq "$heavy"; }
maps() { loaded "$1" | grep -q "$2"; }

check "the executable does not link the on-demand libraries" \
    sh -c "! readelf -d '$exe' | grep NEEDED | grep -Eq '$heavy'"
check "the module links them" \
    sh -c "readelf -d '$module' | grep NEEDED | grep -q libdcmnet"

LD_DEBUG=libs "$exe" run "$ct" -o "$tmp/rwd" -c "$src/bench/window-denoise.ini" \
    >/dev/null 2>"$tmp/rwd.log"
has_run_json() { find "$1" -name run.json | grep -q .; }
check "run of read + median + window succeeds" has_run_json "$tmp/rwd"
check "... and maps none of the on-demand libraries" maps_none "$tmp/rwd.log"
LD_DEBUG=libs "$exe" info "$ct" >/dev/null 2>"$tmp/info.log"
check "info maps none of them" maps_none "$tmp/info.log"

SPINEPIPE_ONDEMAND_MODULE=$missing "$exe" run "$ct" -o "$tmp/rwd2" \
    -c "$src/bench/window-denoise.ini" >/dev/null 2>&1
check "run without the module present still succeeds" has_run_json "$tmp/rwd2"

python3 "$src/tests/dicomout/truth_table.py" \
    "$src/sample_truth/ct-axial/truth.json" "$tmp/table.json"
cat >"$tmp/report.ini" <<INI
[pipeline]
name = ondemand-report
description = report images need the drawing layer
modality = CT
orientation = any
[window]
[import]
labels = $src/sample_truth/ct-axial/truth_labels.nii.gz
table = $tmp/table.json
[report]
INI
LD_DEBUG=libs "$exe" run "$ct" -o "$tmp/rep" -c "$tmp/report.ini" \
    >/dev/null 2>"$tmp/rep.log"
check "a report run draws its images" \
    sh -c "find '$tmp/rep' -name '*.png' | grep -q ."
loads_both() { maps "$1" "$(basename "$module")" && maps "$1" libcairo; }
check "... loading the module from the build tree and cairo" \
    loads_both "$tmp/rep.log"

SPINEPIPE_ONDEMAND_MODULE=$missing "$exe" run "$ct" -o "$tmp/rep2" \
    -c "$tmp/report.ini" >"$tmp/rep2.out" 2>&1
check "a report run without the module fails naming the module file" \
    sh -c "grep -rqF '$missing' '$tmp/rep2.out' '$tmp/rep2' && grep -rq 'on-demand module' '$tmp/rep2.out' '$tmp/rep2'"

SPINEPIPE_ONDEMAND_MODULE=$missing "$exe" run "$ct" -o "$tmp/do" \
    -c "$src/bench/window-denoise.ini" --dicom-out "$tmp/dcm" \
    >"$tmp/do.out" 2>&1
st=$?
check "run --dicom-out without the module fails naming the module file" \
    sh -c "[ $st -ne 0 ] && grep -rqF '$missing' '$tmp/do.out' '$tmp/do'"

SPINEPIPE_ONDEMAND_MODULE=$missing "$exe" listen --port 11112 \
    --spool "$tmp/spool" --allow-any >"$tmp/listen.out" 2>&1
st=$?
check "listen without the module exits with an error naming the module file" \
    sh -c "[ $st -ne 0 ] && grep -qF '$missing' '$tmp/listen.out'"
check "... and the reason" grep -q 'No such file' "$tmp/listen.out"

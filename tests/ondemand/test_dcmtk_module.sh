#!/bin/sh
# The DCMTK module (pipeline/dicom/dicom_module.h): a run of a plain series
# (explicit VR little endian, read by the pre-scan and direct reads) maps no
# DCMTK library but libofstd; a folder of compressed and implicit VR files
# loads the module and reads every series; the phantom writer loads it;
# when it is missing the plain run still works and the others name the
# module file.
# usage: test_dcmtk_module.sh SPINEPIPE MODULE SOURCE_ROOT   (prints TAP)
set -u
exe=$1
module=$2
src=$3
here=$(dirname "$0")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$here/../common/tap.sh"
echo "1..11"
ct=$src/sample_dicom/ct-axial
ts=${SPINEPIPE_DATA:-$src/../shared/data}/conformance/dcm_qa_ts/In
dcmtk='/libdcm[a-z]*\.so|/liboflog|/libijg|/libxml2|/libicu|spinepipe-dcmtk'
missing=$tmp/nowhere/spinepipe-dcmtk.so

loaded() { sed -n 's/.*calling init: //p' "$1"; }
maps_none() { ! loaded "$1" | grep -Eq "$dcmtk"; }
maps_module() { loaded "$1" | grep -q "/$(basename "$module")\$"; }

check "the executable does not link DCMTK's dcmdata nor its codecs" \
    sh -c "! readelf -d '$exe' | grep NEEDED | grep -Eq 'libdcm|liboflog|libijg'"
check "the module links dcmdata" \
    sh -c "readelf -d '$module' | grep NEEDED | grep -q libdcmdata"

LD_DEBUG=libs "$exe" run "$ct" -o "$tmp/rwd" -c "$src/bench/window-denoise.ini" \
    >/dev/null 2>"$tmp/rwd.log"
has_run_json() { find "$1" -name run.json | grep -q .; }
check "run of read + median + window on a plain series succeeds" \
    has_run_json "$tmp/rwd"
check "... and maps neither the module nor DCMTK" maps_none "$tmp/rwd.log"

LD_DEBUG=libs "$exe" info --json "$ts" >"$tmp/ts.json" 2>"$tmp/ts.log"
# syntaxes JSON: the transfer syntax of each series `info --json` lists.
syntaxes() {
    python3 -c 'import json, sys
for s in json.load(open(sys.argv[1]))["series"]:
    print(*s["transfer_syntaxes"])' "$1" 2>/dev/null
}
nine_series() {
    [ "$(syntaxes "$1" | wc -l)" -eq 9 ] &&
        [ "$(syntaxes "$1" | sort -u | wc -l)" -eq 7 ]
}
check "info reads dcm_qa_ts's 9 series in 7 syntaxes (JPEG, JPEG-LS, JPEG 2000, RLE, implicit VR, big endian)" \
    nine_series "$tmp/ts.json"
check "... loading the module from the build tree" maps_module "$tmp/ts.log"

LD_DEBUG=libs "$exe" phantom --output "$tmp/ph" >/dev/null 2>"$tmp/ph.log"
check "phantom writes its series" \
    sh -c "[ \$(ls '$tmp/ph/dicom' | wc -l) -gt 10 ]"
check "... loading the module" maps_module "$tmp/ph.log"

SPINEPIPE_DCMTK_MODULE=$missing "$exe" run "$ct" -o "$tmp/rwd2" \
    -c "$src/bench/window-denoise.ini" >/dev/null 2>&1
check "a plain run without the module still succeeds" has_run_json "$tmp/rwd2"

SPINEPIPE_DCMTK_MODULE=$missing "$exe" info "$ts" >"$tmp/ts2.out" 2>&1
check "info of compressed files without the module skips them naming the module file" \
    sh -c "grep -qF '$missing: cannot load spinepipe' '$tmp/ts2.out' && grep -q 'No such file' '$tmp/ts2.out'"

SPINEPIPE_DCMTK_MODULE=$missing "$exe" phantom --output "$tmp/ph2" \
    >"$tmp/ph2.out" 2>&1
st=$?
check "phantom without the module fails naming the module file" \
    sh -c "[ $st -ne 0 ] && grep -qF '$missing' '$tmp/ph2.out'"

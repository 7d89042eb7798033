#!/bin/sh
# `spinepipe info` end to end: output, JSON schema keys and exit codes.
# usage: test_info_cli.sh SPINEPIPE DATA_DIR   (prints TAP)
set -u
exe=$1
data=$2
. "$(dirname "$0")/../common/tap.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..15"

"$exe" info "$data/spine/mr-lumbar-t2-sag/dicom" >"$tmp/out" 2>"$tmp/err"
check_value "clean series exits 0" 0 $?
grep -q "sagittal" "$tmp/out" && grep -q "257x201 *38" "$tmp/out"
check_value "table names plane, matrix and slice count" 0 $?

"$exe" info --json "$data/conformance/pydicom_test_files" >"$tmp/json" 2>"$tmp/err"
check_value "skipped files exit 3" 3 $?
python3 - "$tmp/json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert set(d) == {"spinepipe_version", "series", "skipped"}, d.keys()
s = d["series"][0]
for k in ("study_uid", "series_uid", "series_number", "part", "modality",
          "columns", "rows", "slices", "pixel_spacing_mm",
          "slice_spacing_mm", "orientation", "transfer_syntaxes", "warnings"):
    assert k in s, k
assert all(x["reason"] and x["code"] and x["path"] for x in d["skipped"])
assert any(x["code"] == "NOTIMAGE" for x in d["skipped"])
PY
check_value "JSON schema: top-level keys, series fields, skip reasons" 0 $?
[ ! -s "$tmp/err" ]
check_value "nothing on stderr for a partial scan" 0 $?

"$exe" info /nonexistent/spinepipe >/dev/null 2>"$tmp/err"
check_value "missing path exits 66" 66 $?

"$exe" info "$data/spine/sources" >/dev/null 2>"$tmp/err"
check_value "no image series exits 65" 65 $?

"$exe" info --help >/dev/null
check_value "--help exits 0" 0 $?

"$exe" info --bogus "$data" >/dev/null 2>"$tmp/err"
check_value "unknown option exits 64" 64 $?
# One message naming the option, then the hint: getopt's own is silenced.
first="$(head -n 1 "$tmp/err")"
[ "$first" = "spinepipe info: unknown option --bogus" ] && [ "$(wc -l <"$tmp/err")" -eq 2 ]
check_value "unknown option: one message naming it" 0 $?
"$exe" info "$data" --max-files 2>"$tmp/err"
[ "$(head -n 1 "$tmp/err")" = "spinepipe info: option --max-files needs a value" ]
check_value "missing value: one message naming the option" 0 $?
"$exe" run "$data" -o "$tmp/o" --dicom-out 2>"$tmp/err"
[ "$(head -n 1 "$tmp/err")" = "spinepipe run: option --dicom-out needs a value" ] && [ "$(wc -l <"$tmp/err")" -eq 2 ]
check_value "run's shared parser says the same" 0 $?

# DCMTK's dictionary is parsed only when DCMTK reads a file: with a
# dictionary file it cannot parse, the head CT (every header read from the
# pre-scan's walk) still scans, and a JPEG 2000 series (DCMTK's) is skipped
# (dcm_qa_ts/In/9.dcm) with the dictionary named as the reason.
printf 'not a dictionary line\n' >"$tmp/bad.dic"
DCMDICTPATH="$tmp/bad.dic" "$exe" info --json \
    "$data/conformance/ct-head-phantom-512/dicom" >"$tmp/json" 2>"$tmp/err"
check_value "plain series scans without parsing the dictionary (exit 3: its DICOMDIR)" 3 $?
python3 - "$tmp/json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert [s["slices"] for s in d["series"]] == [140], d["series"]
assert [x["code"] for x in d["skipped"]] == ["NOTIMAGE"], d["skipped"]
assert "DICOMDIR" in d["skipped"][0]["reason"]
PY
check_value "... all 140 slices, and only the DICOMDIR skipped" 0 $?
DCMDICTPATH="$tmp/bad.dic" "$exe" info --json \
    "$data/conformance/dcm_qa_ts/In/9.dcm" >"$tmp/json" 2>"$tmp/err"
grep -q "data dictionary is not loaded" "$tmp/json"
check_value "a file for DCMTK is skipped naming the dictionary" 0 $?
exit $failed

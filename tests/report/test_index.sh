#!/bin/sh
# `spinepipe run` on the phantom (sample_dicom: CT and MR) writes an
# index.html that Python's HTML parser accepts, whose every link resolves,
# listing both series; with --anonymize the patient ID, study date and
# UIDs appear in no output file (index, JSON, PNG text chunks). TAP.
set -u
exe=$1
src=$2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail=0
"$exe" run "$src/sample_dicom" -o "$out/plain" >"$out/log" 2>&1 || {
    echo "1..1"; echo "not ok 1 - spinepipe run failed"; sed 's/^/# /' "$out/log"; exit 1; }
python3 "$(dirname "$0")/check_index.py" "$out/plain" \
    "Phantom CT axial 3 mm" "Phantom T2 sagittal 4 mm" | sed 's/^1\.\./# plan 1../' >"$out/tap1"
grep -q "^not ok" "$out/tap1" && fail=1
"$exe" run "$src/sample_dicom" -o "$out/anon" --anonymize >"$out/log" 2>&1 || fail=1
python3 "$(dirname "$0")/check_index.py" "$out/anon" >"$out/tap2" || fail=1
# Identifiers of the phantom series, read from the plain run's report.
ids=$(python3 - "$out/plain" <<'PY'
import json, sys, glob
for p in glob.glob(sys.argv[1] + "/*/*/report.json"):
    s = json.load(open(p))["series"]
    for k in ("patient_id", "study_date", "study_uid", "series_uid"):
        if s.get(k):
            print(s[k])
PY
)
leaks=""
for id in $ids; do
    if grep -rlF -- "$id" "$out/anon" >/dev/null 2>&1; then
        leaks="$leaks $id:$(grep -rlF -- "$id" "$out/anon" | head -3 | tr '\n' ' ')"
    fi
done
n_ids=$(echo "$ids" | grep -c .)
echo "1..4"
if grep -q "^not ok" "$out/tap1"; then echo "not ok 1 - index.html of the plain run"; else echo "ok 1 - index.html of the plain run"; fi
sed 's/^/# /' "$out/tap1"
if grep -q "^not ok" "$out/tap2"; then echo "not ok 2 - index.html of the anonymized run"; else echo "ok 2 - index.html of the anonymized run"; fi
if [ "$n_ids" -ge 4 ]; then echo "ok 3 - $n_ids identifiers known from the plain run"; else echo "not ok 3 - only $n_ids identifiers found in the plain reports"; fail=1; fi
if [ -z "$leaks" ]; then echo "ok 4 - no identifier in any file of the anonymized run"; else echo "not ok 4 - identifiers in:$leaks"; fail=1; fi
exit $fail

#!/bin/sh
# `spinepipe batch MANIFEST` on the shared spine series: a hostile manifest
# (comments, CRLF, spaces, quotes, a leading '-', relative paths, repeats,
# missing and non-DICOM folders), outcome files, the summary CSV/JSON with
# key measurements from report.json, resume, SIGTERM mid-run, shards and
# two concurrent runs sharing one output folder. TAP.
set -u
exe=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$SPINEPIPE_SOURCE_ROOT
data=$SPINEPIPE_DATA/spine
. "$(dirname "$0")/batch_lib.sh"

echo "1..43"

# --- command line ---
"$exe" batch --help >/dev/null
check "--help exits 0" eq $? 0
"$exe" batch -o "$tmp/x" 2>/dev/null
check "no manifest exits 64" eq $? 64
"$exe" batch "$tmp/missing.txt" -o "$tmp/x" 2>/dev/null
check "a missing manifest exits 66" eq $? 66
printf '# only comments\n\n   \n' >"$tmp/empty.txt"
"$exe" batch "$tmp/empty.txt" -o "$tmp/x" 2>/dev/null
check "a manifest without studies exits 66" eq $? 66
printf '%s\n/tmp/bad\377name\n' "$data/ct-lumbar-l2-l4-crop/dicom" >"$tmp/bad.txt"
"$exe" batch "$tmp/bad.txt" -o "$tmp/x" 2>"$tmp/bad.err"
check "a line that is not UTF-8 exits 65 before anything runs" \
    sh -c "[ $? -eq 65 ] && grep -q 'bad.txt:2: not valid UTF-8' '$tmp/bad.err' && [ ! -e '$tmp/x' ]"
"$exe" batch "$tmp/empty.txt" -o "$tmp/x" --shard 4/4 2>/dev/null
check "--shard 4/4 exits 64" eq $? 64
"$exe" batch "$tmp/empty.txt" -o "$tmp/x" --status --slurm 2>/dev/null
check "--status with --slurm exits 64" eq $? 64

# --- a hostile manifest ---
# Study folders with awkward names, as symlinks to the real series.
m=$tmp/lists
mkdir -p "$m/rel" "$tmp/odd"
ln -s "$data/ct-lumbar-l2-l4-crop/dicom" "$tmp/odd/-rf 'quoted' \"name\", with =comma"
ln -s "$data/mr-cervical-t2-axial/dicom" "$m/rel/mr axial"
ln -s "$data/mr-cervical-c5-c7-sag-crop/dicom" "$tmp/odd/ünïcödé"
mkdir "$tmp/odd/not-dicom"
echo "not an image" >"$tmp/odd/not-dicom/readme.txt"
{
    printf '# spine studies\r\n'
    printf '\r\n'
    printf '   %s  \r\n' "$tmp/odd/-rf 'quoted' \"name\", with =comma"
    printf 'rel/mr axial\n'
    printf '\t%s\n' "$tmp/odd/ünïcödé"
    printf '%s\n' "$tmp/odd/no-such-study"
    printf '%s\n' "$tmp/odd/not-dicom"
    printf '%s/rel/mr axial\n' "$m"
} >"$m/manifest.txt"
out=$tmp/out
(cd / && "$exe" batch "$m/manifest.txt" -o "$out" --jobs 2 \
    >"$tmp/run1.log" 2>&1)
check "some studies fail: exit code 3" eq $? 3
check "the repeated line is listed once (with a warning)" \
    grep -q "manifest.txt:8: .* repeats line 4" "$tmp/run1.log"
check "one outcome file per study (5)" eq "$(count "$out/outcomes" '*.json')" 5
check "three studies ok, each with one series" \
    eq "$(outcomes_with "$out" ok 1)" 3
check "the missing folder failed with exit code 66" \
    outcome_is "$out" no-such-study failed 66
check "the folder without DICOM failed with exit code 66" \
    outcome_is "$out" not-dicom failed 66
check "every study was started once" eq "$(starts_max "$out")" 1
check "the outputs match 'spinepipe run' on the same folders" \
    same_as_run "$out" "$data/ct-lumbar-l2-l4-crop/dicom" \
    "$data/mr-cervical-t2-axial/dicom" "$data/mr-cervical-c5-c7-sag-crop/dicom"
check "summary.csv: a row per study, paths and statuses as listed" \
    python3 "$(dirname "$0")/check_summary.py" "$out" "$m/manifest.txt" 3 2 0
"$exe" batch "$m/manifest.txt" -o "$out" --status >"$tmp/status.txt"
check "--status exits 3 (finished, some failed)" eq $? 3
check "--status counts 3 done, 2 failed, 0 pending" \
    grep -q "^5 studies: 3 done, 2 failed, 0 pending" "$tmp/status.txt"

# --- resume: done studies are skipped, failed ones retried ---
"$exe" batch "$m/manifest.txt" -o "$out" >"$tmp/run2.log" 2>&1
check "a rerun exits 3 again" eq $? 3
check "a rerun starts only the 2 failed studies" \
    grep -q "5 studies: 0 ok, 2 failed, 3 already done" "$tmp/run2.log"
check "the ok studies were not started again" \
    eq "$(starts_of "$out" mr_axial)" 1
check "the failed ones were tried twice" eq "$(starts_of "$out" no-such-study)" 2

# --- key measurements from report.json (import stage, phantom truth) ---
cfg=$tmp/truth.ini
cat >"$cfg" <<INI
[pipeline]
name = truth-import
description = test: the phantom's truth as measurements
[import]
labels = $src/sample_truth/ct-axial/truth_labels.nii.gz
table = $src/sample_truth/ct-axial/truth.json
[window]
[report]
INI
echo "$src/sample_dicom/ct-axial" >"$tmp/phantom.txt"
"$exe" batch "$tmp/phantom.txt" -o "$tmp/ph" -c "$cfg" >"$tmp/ph.log" 2>&1
check "the phantom study runs with imported measurements" eq $? 0
check "summary: narrowest canal and its level as in truth.json" \
    python3 "$(dirname "$0")/check_truth.py" "$tmp/ph" \
    "$src/sample_truth/ct-axial/truth.json"

# --- SIGTERM mid-run: nothing recorded for the interrupted study ---
slow=$tmp/slow.ini
write_slow_config "$slow"
ln -s "$data/ct-abdomen-t11-s1/dicom" "$tmp/odd/ct-abdomen"
printf '%s\n%s\n' "$tmp/odd/ct-abdomen" "$tmp/odd/ünïcödé" >"$tmp/slow.txt"
"$exe" batch "$tmp/slow.txt" -o "$tmp/int" -c "$slow" >"$tmp/int.log" 2>&1 &
bpid=$!
started() { [ "$(starts_of "$tmp/int" ct-abdomen)" -ge 1 ]; }
wait_for 60 started
sleep 0.5
kill -TERM $bpid
wait $bpid
check "SIGTERM mid-run: exit code 75 (pending)" eq $? 75
check "no outcome for the interrupted study" \
    eq "$(count "$tmp/int/outcomes" '*.json')" 0
"$exe" batch "$tmp/slow.txt" -o "$tmp/int" --status >/dev/null
check "--status exits 75 while studies are pending" eq $? 75
no_child() { ! pgrep -f "^$exe run .*$tmp/int/studies" >/dev/null; }
check "no 'spinepipe run' child left behind" no_child
"$exe" batch "$tmp/slow.txt" -o "$tmp/int" -c "$slow" >>"$tmp/int.log" 2>&1
check "the rerun finishes both studies (exit 0)" eq $? 0
check "the interrupted study ran twice, the other once" \
    sh -c "[ $(starts_of "$tmp/int" ct-abdomen) -eq 2 ] && [ $(starts_of "$tmp/int" n_c_d) -eq 1 ]"

# --- shards and concurrent runs on one output folder ---
ls -d "$data"/*/dicom >"$tmp/all.txt"
nall=$(wc -l <"$tmp/all.txt")
"$exe" batch "$tmp/all.txt" -o "$tmp/sh" --shard 0/2 >"$tmp/sh0.log" 2>&1 &
p0=$!
"$exe" batch "$tmp/all.txt" -o "$tmp/sh" --shard 1/2 >"$tmp/sh1.log" 2>&1
r1=$?
wait $p0
r0=$?
check "two shards run at once, both exit 0" sh -c "[ $r0 -eq 0 ] && [ $r1 -eq 0 ]"
check "shard 0/2 takes lines 1, 3, 5 and shard 1/2 lines 2, 4, 6" \
    python3 "$(dirname "$0")/check_shards.py" "$tmp/sh" 2
check "the shards together ran every study exactly once" \
    sh -c "[ $(count "$tmp/sh/outcomes" '*.json') -eq $nall ] && [ $(starts_max "$tmp/sh") -eq 1 ]"
"$exe" batch "$tmp/all.txt" -o "$tmp/sh" --status >/dev/null
check "--status after all shards exits 0" eq $? 0
"$exe" batch "$tmp/all.txt" -o "$tmp/sh" --summarize 2>/dev/null
check "--summarize writes one CSV/JSON for all shards" \
    python3 "$(dirname "$0")/check_summary.py" "$tmp/sh" "$tmp/all.txt" "$nall" 0 0
"$exe" batch "$tmp/all.txt" -o "$tmp/cc" >"$tmp/cc0.log" 2>&1 &
p0=$!
"$exe" batch "$tmp/all.txt" -o "$tmp/cc" >"$tmp/cc1.log" 2>&1
wait $p0
check "two unsharded runs at once: every study exactly once" \
    sh -c "[ $(count "$tmp/cc/outcomes" '*.json') -eq $nall ] && [ $(starts_max "$tmp/cc") -eq 1 ]"
"$exe" batch "$tmp/all.txt" -o "$tmp/cc" --status >/dev/null
check "and all of them done" eq $? 0

# --- --slurm against a stand-in sbatch: arguments, job ID, the script ---
mkdir -p "$tmp/bin"
cat >"$tmp/bin/sbatch" <<'SH'
#!/bin/sh
printf '%s\n' "$@" >"$FAKE_SBATCH_ARGS"
[ -n "${FAKE_SBATCH_FAIL:-}" ] && { echo "sbatch: error: no partition" >&2; exit 1; }
echo "4242;spinecluster"
SH
chmod +x "$tmp/bin/sbatch"
odd="$tmp/out 'q' \"x\""
job=$(PATH="$tmp/bin:$PATH" FAKE_SBATCH_ARGS=$tmp/sbatch.args "$exe" batch \
    "$m/manifest.txt" -o "$odd" --slurm --array-size 50 --partition short \
    --cpus-per-task 2 --mem 4G 2>"$tmp/slurm.err")
check "--slurm prints the job ID sbatch gave" [ "$job" = 4242 ]
check "sbatch gets the array (capped at 5 studies), partition, CPUs, memory" \
    sh -c "grep -qx -- '--array=0-4' '$tmp/sbatch.args' && grep -qx -- '--partition=short' '$tmp/sbatch.args' && grep -qx -- '--cpus-per-task=2' '$tmp/sbatch.args' && grep -qx -- '--mem=4G' '$tmp/sbatch.args' && grep -q -- '--output=.*/slurm/logs/%A_%a.log' '$tmp/sbatch.args'"
script=$(tail -1 "$tmp/sbatch.args")
SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=5 sh "$script" 2>"$tmp/task.err"
rc=$?
one_task() {
    [ $rc -eq 0 ] && [ "$(count "$odd/outcomes" '*.json')" -eq 1 ] &&
        grep -q '"shard": "1/5"' "$odd"/outcomes/*.json &&
        grep -q '"path": ".*/rel/mr axial"' "$odd"/outcomes/*.json
}
check "the script, run as task 1 of 5, does exactly its one study (line 4)" one_task
check "outside a job array the script refuses to run" \
    sh -c "! env -u SLURM_ARRAY_TASK_ID sh '$script' 2>/dev/null"
PATH="$tmp/bin:$PATH" FAKE_SBATCH_ARGS=$tmp/sbatch.args FAKE_SBATCH_FAIL=1 \
    "$exe" batch "$m/manifest.txt" -o "$tmp/o2" --slurm >/dev/null 2>&1
check "a failing sbatch exits 69" eq $? 69
"$exe" batch "$m/manifest.txt" -o "$tmp/100%" --slurm >/dev/null 2>&1
check "an output folder with '%' (a Slurm pattern) exits 64" eq $? 64

#!/bin/sh
# `spinepipe batch --slurm` on a real single-node Slurm cluster started on
# 127.0.0.1 under a temporary folder (slurm_cluster.sh): the six shared
# spine series as a 4-task job array, each study processed exactly once
# with results identical to a local `spinepipe run`; then an array task
# cancelled mid-run (scancel) and a resubmission that finishes the rest.
# The daemons are stopped by PID. Works as root (CI) and as any user. TAP.
set -u
exe=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
port_tool=$2
data=$SPINEPIPE_DATA/spine
. "$(dirname "$0")/batch_lib.sh"
. "$(dirname "$0")/slurm_cluster.sh"
trap 'cluster_stop; cleanup' EXIT

echo "1..20"
for tool in munged mungekey slurmctld slurmd sbatch squeue scancel; do
    command -v $tool >/dev/null || {
        echo "not ok 1 - $tool not installed (scripts/install-deps)"; exit 1; }
done
t0=$(date +%s)
check "a single-node cluster starts (munged, slurmctld, slurmd)" cluster_start
echo "# cluster up in $(($(date +%s) - t0)) s as $(id -un)"

# Study folders named after the series; the slowest CT first, so that
# shard 0 holds it (with the fifth study) for the cancellation below.
mkdir -p "$tmp/studies"
for s in ct-abdomen-t11-s1 ct-lumbar-l2-l4-crop mr-cervical-c5-c7-sag-crop \
    mr-cervical-t2-axial mr-cervical-t2-sag mr-lumbar-t2-sag; do
    ln -s "$data/$s/dicom" "$tmp/studies/$s"
    echo "$tmp/studies/$s"
done >"$tmp/manifest.txt"

# squeue lists the job (or its tasks) until every task has ended.
job_gone() { [ -z "$(squeue -h -j "$1" 2>/dev/null)" ]; }
task_gone() { [ -z "$(squeue -h -r -j "$1" 2>/dev/null | grep "_$2 ")" ] \
    && ! squeue -h -r -o %i -j "$1" 2>/dev/null | grep -qx "$1_$2"; }

# --- the whole array ---
out=$tmp/out
job=$("$exe" batch "$tmp/manifest.txt" -o "$out" --slurm --array-size 4 \
    --cpus-per-task 1 2>"$tmp/submit.log")
check "--slurm submits and prints the job ID" \
    sh -c "echo '$job' | grep -Eqx '[0-9]+'"
check "the job finishes (squeue polled)" wait_for 300 job_gone "$job"
check "four array tasks ran, each with its own log" \
    eq "$(ls "$out"/slurm/logs/"${job}"_[0-3].log 2>/dev/null | wc -l)" 4
check "Slurm recorded four completed array tasks (jobcomp)" \
    eq "$(grep "ArrayJobId=$job " "$cluster/jobcomp.txt" | grep -c 'JobState=COMPLETED')" 4
check "every task ran its shard: K/4 in each outcome" \
    python3 "$(dirname "$0")/check_shards.py" "$out" 4
check "every study processed exactly once" \
    sh -c "[ $(count "$out/outcomes" '*.json') -eq 6 ] && [ $(starts_max "$out") -eq 1 ]"
"$exe" batch "$tmp/manifest.txt" -o "$out" --status >"$tmp/status.txt"
check "--status: 6 done, exit 0" \
    sh -c "[ $? -eq 0 ] && grep -q '^6 studies: 6 done, 0 failed, 0 pending' '$tmp/status.txt'"
check "results identical to a local 'spinepipe run'" \
    same_as_run "$out" "$tmp"/studies/*
"$exe" batch "$tmp/manifest.txt" -o "$out" --summarize 2>/dev/null
check "--summarize: one CSV/JSON row per study" \
    python3 "$(dirname "$0")/check_summary.py" "$out" "$tmp/manifest.txt" 6 0 0

# --- cancel one task mid-run, resubmit ---
slow=$tmp/slow.ini
write_slow_config "$slow"
out=$tmp/cancel
job=$("$exe" batch "$tmp/manifest.txt" -o "$out" -c "$slow" --slurm \
    --array-size 4 2>>"$tmp/submit.log")
started() { [ "$(starts_of "$out" ct-abdomen-t11-s1)" -ge 1 ]; }
check "task 0 starts the slow CT study" wait_for 120 started
sleep 1
scancel "${job}_0"
check "scancel ${job}_0: the task ends" wait_for 60 task_gone "$job" 0
check "the other tasks finish" wait_for 300 job_gone "$job"
check "the cancelled study has no outcome, its shard-mate none either" \
    sh -c "[ $(count "$out/outcomes" '*.json') -eq 4 ] && ! ls '$out'/outcomes/ct-abdomen-* >/dev/null 2>&1 && ! ls '$out'/outcomes/mr-cervical-t2-sag-* >/dev/null 2>&1"
"$exe" batch "$tmp/manifest.txt" -o "$out" --status >"$tmp/status.txt"
check "--status: 4 done, 2 pending, exit 75" \
    sh -c "[ $? -eq 75 ] && grep -q '^6 studies: 4 done, 0 failed, 2 pending' '$tmp/status.txt'"
before=$(cat "$out"/outcomes/*.json | cksum)
job2=$("$exe" batch "$tmp/manifest.txt" -o "$out" -c "$slow" --slurm \
    --array-size 4 2>>"$tmp/submit.log")
check "the resubmitted array finishes" wait_for 300 job_gone "$job2"
"$exe" batch "$tmp/manifest.txt" -o "$out" --status >"$tmp/status.txt"
check "after the resubmission: 6 done, exit 0" \
    sh -c "[ $? -eq 0 ] && grep -q '^6 studies: 6 done' '$tmp/status.txt'"
check "only the cancelled study ran twice; the others once" \
    sh -c "[ $(starts_of "$out" ct-abdomen-t11-s1) -eq 2 ] && [ $(starts_of "$out" mr-cervical-t2-sag) -eq 1 ] && [ $(starts_of "$out" ct-lumbar-l2-l4-crop) -eq 1 ]"
after=$(for f in "$out"/outcomes/*.json; do case $f in
    */ct-abdomen-*|*/mr-cervical-t2-sag-*) ;; *) cat "$f" ;; esac; done | cksum)
check "the four outcomes of the first submission are untouched" \
    [ "$before" = "$after" ]
cluster_stop
all_gone() {
    [ -n "$pids" ] || return 1
    for p in $pids; do ! kill -0 "$p" 2>/dev/null || return 1; done
}
check "the three daemons are stopped by PID ($pids )" wait_for 10 all_gone

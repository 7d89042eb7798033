#!/bin/sh
# Listener benchmark (issue 8, "Speed"): a 500-instance push to
# `spinepipe listen` against `spinepipe run` on the same files, in the same
# invocation.
#   push set  4 CT phantom series (`spinepipe phantom`, 256x256, 125 slices,
#             seeds 1..4) = 500 instances
#   listen    on a free loopback port, its own spool in a temp dir,
#             --jobs 2, --allow BENCH, no --dest (results kept in the spool),
#             --log-level info
#   senders   4 concurrent `storescu` (TCP_NODELAY=1), the files dealt out
#             round-robin, so every series arrives on all 4 associations
#             and the later instances arrive while earlier series run;
#             started with setsid: a PACS pushing to us is another machine,
#             and with the kernel's autogroup scheduling a session is a
#             scheduling group, so the senders' CPU does not come out of
#             the share of the session that runs the listener and `run`
# Measured:
#   ack       acknowledgement time per instance as the listener itself
#             logs it at shutdown: from the data set fully received to the
#             C-STORE response sent (spool write, fsync, rename, directory
#             fsync); median, 99th percentile, max. Target < 50 ms.
#   listen    wall time from starting the first sender to the moment this
#             script sees the last series in queue/done/ (one python
#             process polls every 20 ms; the entries' mtimes are those of
#             queue/pending/, as a rename keeps them, so they cannot tell
#             when a job ended)
#   run       wall time of `spinepipe run` on the same 500 files, same
#             pipeline (default config) and same machine, plain and with
#             --dicom-out --no-dicom-seg (the Secondary Captures and SR
#             that every listener job also writes: the same work)
#   CPU       user + system seconds: `run` (GNU time), and the listener's
#             own (logged at shutdown) plus its jobs' (each job's CPU is
#             logged by the listener)
# and instances/s for each; listen/this is the throughput ratio (target:
# listen/run >= 1). Each round runs run, run --dicom-out and listen one
# after the other (-n rounds, default 3), so they share the machine's load.
# Exactly once: queue/done/ holds one entry per series, queue/failed/ is
# empty, the jobs hold 500 instances with 500 distinct file names (hashes
# of the SOP instance UIDs), and there is one run.json per result folder.
#
#   bench/listen.sh [-b BUILD_DIR] [-p PUSH_DIR] [-n ROUNDS]
#
# The push set is generated into PUSH_DIR (default
# /tmp/spinepipe-listen-bench) when it is not there yet.
set -eu
cd "$(dirname "$0")/.."
bench_name=bench/listen.sh
bench_usage='[-b BUILD_DIR] [-p PUSH_DIR] [-n ROUNDS]'
runs=3
push=/tmp/spinepipe-listen-bench
. bench/lib.sh
bench_opt() { [ "$1" = p ] && push=$2; }
bench_parse 'p:' "$@"
shift $((OPTIND - 1))
[ $# -eq 0 ] || bench_usage
spinepipe=$(pwd)/$spinepipe
bench_need "$spinepipe"
bench_need_cmd storescu "apt-get install dcmtk"
bench_need_cmd /usr/bin/time "apt-get install time"

nseries=4
slices=125
total=$((nseries * slices))
if [ ! -f "$push/.complete" ]; then
    echo "generating the push set in $push ..." >&2
    rm -rf "$push"
    for s in $(seq "$nseries"); do
        "$spinepipe" phantom --output "$push/gen$s" --matrix 256 \
            --slices "$slices" --seed "$s" --series-number "$s" >/dev/null
        mkdir -p "$push/dicom"
        for f in "$push/gen$s/dicom"/*.dcm; do
            mv "$f" "$push/dicom/s${s}_$(basename "$f")"
        done
        rm -rf "$push/gen$s"
    done
    touch "$push/.complete"
fi
n=$(find "$push/dicom" -name '*.dcm' | wc -l)
[ "$n" -eq "$total" ] || { echo "bench/listen.sh: $push/dicom has $n files, not $total" >&2; exit 65; }

pid=
stop_listener() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
}
bench_tmp stop_listener
fail() { echo "bench/listen.sh: $*" >&2; exit 70; }

# timed_run NAME [ARGS...]: "WALL CPU" seconds of `spinepipe run` on the
# push set (the outputs stay in $tmp/run-out)
timed_run() {
    name=$1
    shift
    rm -rf "$tmp/run-out"
    t0=$(now)
    /usr/bin/time -f '%U %S' -o "$tmp/run.time" "$spinepipe" run "$push/dicom" \
        -o "$tmp/run-out" "$@" >"$tmp/run.log" 2>&1 || {
        cat "$tmp/run.log" >&2; fail "spinepipe run ($name) failed"; }
    t1=$(now)
    awk -v a="$t0" -v b="$t1" '{printf "%.3f %.2f", b - a, $1 + $2}' "$tmp/run.time"
}

# listen_round: pushes the set to a fresh listener; sets listen_s, send_s,
# listen_cpu, ack, load and checks exactly-once
listen_round() {
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    spool=$tmp/spool
    rm -rf "$spool"
    "$spinepipe" listen --port "$port" --spool "$spool" --allow BENCH \
        --jobs 2 --log-level info 2>"$tmp/listen.log" &
    pid=$!
    i=0
    until python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$port" 2>/dev/null; do
        i=$((i + 1))
        [ $i -lt 100 ] || { cat "$tmp/listen.log" >&2; fail "listener did not start"; }
        kill -0 "$pid" 2>/dev/null || { cat "$tmp/listen.log" >&2; fail "listener exited"; }
        sleep 0.1
    done
    # deal the files out to 4 senders, round-robin
    find "$push/dicom" -name '*.dcm' | sort | awk -v d="$tmp" '{print > (d "/list" (NR - 1) % 4)}'
    t0=$(now)
    for k in 0 1 2 3; do
        # shellcheck disable=SC2046
        TCP_NODELAY=1 setsid storescu -aet BENCH -aec SPINEPIPE 127.0.0.1 "$port" \
            $(cat "$tmp/list$k") >"$tmp/send$k.log" 2>&1 &
        echo $! >"$tmp/send$k.pid"
    done
    for k in 0 1 2 3; do
        wait "$(cat "$tmp/send$k.pid")" || {
            cat "$tmp/send$k.log" >&2; fail "storescu $k failed"; }
    done
    t_sent=$(now)
    # wait for every series to be done (or failed): one process polling
    # every 20 ms, not a new process per poll, which would take CPU from
    # the listener's share of the machine (and `run` has no such poller)
    t_last=$(python3 - "$spool/queue" "$nseries" <<'PY'
import os, sys, time
q, n = sys.argv[1], int(sys.argv[2])
end = time.time() + 600
def count(d):
    try:
        return sum(1 for f in os.listdir(os.path.join(q, d)) if f.endswith(".json"))
    except FileNotFoundError:
        return 0
while count("done") + count("failed") < n:
    if time.time() > end:
        sys.exit(1)
    time.sleep(0.02)
print("%.3f" % time.time())
PY
) || fail "jobs not done after 600 s"
    done_n=$(find "$spool/queue/done" -name '*.json' | wc -l)
    failed_n=$(find "$spool/queue/failed" -name '*.json' | wc -l)
    listen_s=$(echo "$t0 $t_last" | awk '{printf "%.3f", $2 - $1}')
    send_s=$(echo "$t0 $t_sent" | awk '{printf "%.2f", $2 - $1}')
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    kill -TERM "$pid"
    wait "$pid" || true
    pid=
    instances=$(find "$spool/jobs" -name '*.dcm' | wc -l)
    distinct=$(find "$spool/jobs" -name '*.dcm' -printf '%f\n' | sort -u | wc -l)
    results=$(find "$spool/results" -name run.json | wc -l)
    ack=$(grep 'instance(s) acknowledged' "$tmp/listen.log" | tail -n 1)
    [ -n "$ack" ] || { cat "$tmp/listen.log" >&2; fail "no acknowledgement times in the listener's log"; }
    ack_n=$(echo "$ack" | sed 's/.* \([0-9]*\) instance(s) acknowledged.*/\1/')
    ack=$(echo "$ack" | sed 's/.*median \([0-9.]*\) ms.*percentile \([0-9.]*\) ms.*max \([0-9.]*\) ms.*/\1 \/ \2 \/ \3/')
    # the listener's own CPU and its jobs'
    listen_cpu=$(sed -n -e 's/.*listener process.*user \([0-9.]*\) s, system \([0-9.]*\) s CPU.*/\1 \2/p' \
        -e 's/.*: \([0-9.]*\) s CPU (user.*/\1/p' "$tmp/listen.log" |
        awk '{for (i = 1; i <= NF; i++) t += $i} END {printf "%.2f", t}')
    [ "$done_n" -eq "$nseries" ] && [ "$failed_n" -eq 0 ] && [ "$instances" -eq "$total" ] \
        && [ "$distinct" -eq "$total" ] && [ "$results" -eq "$nseries" ] \
        && [ "$ack_n" -eq "$total" ] || {
        echo "done $done_n/$nseries, failed $failed_n, spooled $instances/$total ($distinct distinct), results $results, acks $ack_n" >&2
        fail "NOT every instance processed exactly once"; }
}

printf '%-5s %-14s %-14s %-14s %-11s %-20s %-6s %s\n' round "run s (CPU)" \
    "run+do s (CPU)" "listen s (CPU)" "listen/run" "ack ms med/p99/max" "sent" \
    "load average"
for r in $(seq "$runs"); do
    set -- $(timed_run plain)
    run_s=$1 run_cpu=$2
    run_series=$(find "$tmp/run-out" -name run.json | wc -l)
    [ "$run_series" -eq "$nseries" ] || fail "spinepipe run made $run_series results, not $nseries"
    set -- $(timed_run dicom-out --dicom-out "$tmp/run-out/dicom" --no-dicom-seg)
    rundo_s=$1 rundo_cpu=$2
    listen_round
    awk -v r="$r" -v rs="$run_s" -v rc="$run_cpu" -v ds="$rundo_s" -v dc="$rundo_cpu" \
        -v ls="$listen_s" -v lc="$listen_cpu" -v ack="$ack" -v sent="$send_s" -v load="$load" 'BEGIN {
        printf "%-5d %-14s %-14s %-14s %-11s %-20s %-6s %s\n", r,
            sprintf("%.2f (%.1f)", rs, rc), sprintf("%.2f (%.1f)", ds, dc),
            sprintf("%.2f (%.1f)", ls, lc), sprintf("%.2f / %.2f", rs / ls, ds / ls),
            ack, sent, load }'
done
echo "(s: wall seconds; CPU: user + system seconds; listen/run: against run and"
echo "run --dicom-out --no-dicom-seg; every round: 500/500 acknowledged, 4/4 jobs done,"
echo "0 failed, 500 distinct instances spooled, one run.json per series)"

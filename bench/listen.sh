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
#             and the later instances arrive while earlier series run
# Measured:
#   ack       acknowledgement time per instance as the listener itself
#             logs it at shutdown: from the data set fully received to the
#             C-STORE response sent (spool write, fsync, rename, directory
#             fsync); median, 99th percentile, max. Target < 50 ms.
#   listen    wall time from starting the first sender to the moment this
#             script sees the last series in queue/done/ (polled every
#             0.1 s; the entries' mtimes are those of queue/pending/, as a
#             rename keeps them, so they cannot tell when a job ended)
#   run       wall time of `spinepipe run` on the same 500 files, same
#             pipeline (default config) and same machine, plain and with
#             --dicom-out --no-dicom-seg (the Secondary Captures and SR
#             that every listener job also writes: the same work)
# and instances/s for each; listen/this is the throughput ratio (target:
# listen/run >= 1).
# Exactly once: queue/done/ holds one entry per series, queue/failed/ is
# empty, the jobs hold 500 instances with 500 distinct file names (hashes
# of the SOP instance UIDs), and there is one run.json per result folder.
#
#   bench/listen.sh [-b BUILD_DIR] [-p PUSH_DIR]
#
# The push set is generated into PUSH_DIR (default
# /tmp/spinepipe-listen-bench) when it is not there yet.
set -eu
cd "$(dirname "$0")/.."
build=build
push=/tmp/spinepipe-listen-bench
while getopts b:p: opt; do
    case $opt in
    b) build=$OPTARG ;;
    p) push=$OPTARG ;;
    *) echo "usage: bench/listen.sh [-b BUILD_DIR] [-p PUSH_DIR]" >&2
       exit 64 ;;
    esac
done
spinepipe=$(pwd)/$build/pipeline/cli/spinepipe
[ -x "$spinepipe" ] || { echo "bench/listen.sh: $spinepipe missing; run: ninja -C $build" >&2; exit 66; }
command -v storescu >/dev/null || { echo "bench/listen.sh: storescu not found (apt-get install dcmtk)" >&2; exit 69; }

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

tmp=$(mktemp -d)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }

# the references: `spinepipe run` on the same 500 files, plain and with the
# DICOM outputs every listener job writes (--dicom-out, --no-dicom-seg)
# timed_run NAME [ARGS...]: wall seconds on stdout
timed_run() {
    name=$1
    shift
    rm -rf "$tmp/run-out"
    t0=$(now)
    "$spinepipe" run "$push/dicom" -o "$tmp/run-out" "$@" >"$tmp/run.log" 2>&1 || {
        echo "bench/listen.sh: spinepipe run ($name) failed:" >&2; cat "$tmp/run.log" >&2; exit 70; }
    t1=$(now)
    echo "$t0 $t1" | awk '{printf "%.3f", $2 - $1}'
}
run_s=$(timed_run plain)
run_series=$(find "$tmp/run-out" -name run.json | wc -l)
rundo_s=$(timed_run dicom-out --dicom-out "$tmp/run-out/dicom" --no-dicom-seg)

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
spool=$tmp/spool
"$spinepipe" listen --port "$port" --spool "$spool" --allow BENCH \
    --jobs 2 --log-level info 2>"$tmp/listen.log" &
pid=$!
i=0
until python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$port" 2>/dev/null; do
    i=$((i + 1))
    [ $i -lt 100 ] || { echo "bench/listen.sh: listener did not start:" >&2; cat "$tmp/listen.log" >&2; exit 70; }
    kill -0 "$pid" 2>/dev/null || { echo "bench/listen.sh: listener exited:" >&2; cat "$tmp/listen.log" >&2; exit 70; }
    sleep 0.1
done

# deal the files out to 4 senders, round-robin
find "$push/dicom" -name '*.dcm' | sort | awk -v d="$tmp" '{print > (d "/list" (NR - 1) % 4)}'
t0=$(now)
for k in 0 1 2 3; do
    # shellcheck disable=SC2046
    TCP_NODELAY=1 storescu -aet BENCH -aec SPINEPIPE 127.0.0.1 "$port" \
        $(cat "$tmp/list$k") >"$tmp/send$k.log" 2>&1 &
    echo $! >"$tmp/send$k.pid"
done
for k in 0 1 2 3; do
    wait "$(cat "$tmp/send$k.pid")" || {
        echo "bench/listen.sh: storescu $k failed:" >&2; cat "$tmp/send$k.log" >&2; exit 70; }
done
t_sent=$(now)

# wait for every series to be done (or failed)
i=0
while :; do
    done_n=$(find "$spool/queue/done" -name '*.json' 2>/dev/null | wc -l)
    failed_n=$(find "$spool/queue/failed" -name '*.json' 2>/dev/null | wc -l)
    [ $((done_n + failed_n)) -ge "$nseries" ] && break
    i=$((i + 1))
    [ $i -lt 6000 ] || { echo "bench/listen.sh: jobs not done after 600 s" >&2; exit 70; }
    sleep 0.1
done
t_last=$(now)
listen_s=$(echo "$t0 $t_last" | awk '{printf "%.3f", $2 - $1}')
send_s=$(echo "$t0 $t_sent" | awk '{printf "%.3f", $2 - $1}')
load=$(cut -d' ' -f1-3 /proc/loadavg)

kill -TERM "$pid"
wait "$pid" || true
pid=

instances=$(find "$spool/jobs" -name '*.dcm' | wc -l)
distinct=$(find "$spool/jobs" -name '*.dcm' -printf '%f\n' | sort -u | wc -l)
results=$(find "$spool/results" -name run.json | wc -l)
ack=$(grep 'instance(s) acknowledged' "$tmp/listen.log" | tail -n 1)
[ -n "$ack" ] || { echo "bench/listen.sh: no acknowledgement times in the listener's log:" >&2; cat "$tmp/listen.log" >&2; exit 70; }
ack_n=$(echo "$ack" | sed 's/.* \([0-9]*\) instance(s) acknowledged.*/\1/')
ack_med=$(echo "$ack" | sed 's/.*median \([0-9.]*\) ms.*/\1/')
ack_p99=$(echo "$ack" | sed 's/.*percentile \([0-9.]*\) ms.*/\1/')
ack_max=$(echo "$ack" | sed 's/.*max \([0-9.]*\) ms.*/\1/')

printf '%-15s %9s %10s %9s %14s\n' mode "wall (s)" instances "inst/s" "listen/this"
awk -v rs="$run_s" -v ds="$rundo_s" -v ls="$listen_s" -v n="$total" 'BEGIN {
    printf "%-15s %9.2f %10d %9.1f %14.2f\n", "run", rs, n, n / rs, rs / ls
    printf "%-15s %9.2f %10d %9.1f %14.2f\n", "run+dicom-out", ds, n, n / ds, ds / ls
    printf "%-15s %9.2f %10d %9.1f %14s\n", "listen", ls, n, n / ls, "" }'
echo "all 4 senders finished after $send_s s"
echo "ack (received -> response sent, listener log): $ack_n instances," \
    "median $ack_med ms, p99 $ack_p99 ms, max $ack_max ms (target < 50 ms)"
echo "exactly once: done $done_n/$nseries, failed $failed_n, spooled" \
    "$instances/$total ($distinct distinct), results $results" \
    "(run: $run_series)"
echo "load average at the end of the push: $load"
ok=1
[ "$done_n" -eq "$nseries" ] && [ "$failed_n" -eq 0 ] && [ "$instances" -eq "$total" ] \
    && [ "$distinct" -eq "$total" ] && [ "$results" -eq "$nseries" ] \
    && [ "$ack_n" -eq "$total" ] || ok=0
[ $ok -eq 1 ] || { echo "bench/listen.sh: NOT every instance processed exactly once" >&2; exit 1; }

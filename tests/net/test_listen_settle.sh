#!/bin/sh
# Series completion by the settle rule (docs/listen.md), with the quiet
# period out of reach (--quiet 600): a series whose sender has moved on to
# another series is processed while that association is still open, the
# series it is still sending is not, and instances that arrive after their
# series was queued are not lost: they join the job while it is pending, or
# a new job holds the whole updated series once the first has started. TAP.
set -u
exe=$1
tool=$2
hold=$3
data=$SPINEPIPE_DATA/spine
. "$(dirname "$0")/tap_lib.sh"
echo_ok() { echoscu -aet TESTER -aec SPINEPIPE 127.0.0.1 "$port" >/dev/null 2>&1; }
state() { count "$spool/queue/$1" '*.json'; }
is_state() { [ "$(state "$1")" -eq "$2" ]; }
alive() { kill -0 "$1" 2>/dev/null; }
held() { grep -q held "$1" 2>/dev/null; }
# job_sizes DIR: the instance counts of the jobs holding DIR's series,
# oldest first, on one line.
job_sizes() {
    want=$(uid_of "$(ls "$1"/*.dcm | head -1)")
    for j in "$spool"/jobs/*/; do
        [ "$(uid_of "$j$(ls "$j" | head -1)")" = "$want" ] && ls "$j" | wc -l
    done | tr '\n' ' ' | sed 's/ $//'
}
# first_but_last DIR / last DIR: all instances of DIR but the last one,
# and the last one.
first_but_last() { ls "$1"/*.dcm | sed '$d'; }
last() { ls "$1"/*.dcm | tail -n 1; }

echo "1..14"
port=$($tool port)
spool=$tmp/spool
"$exe" listen --port "$port" --spool "$spool" --allow TESTER --jobs 1 \
    --quiet 600 --settle 0.5 --idle-timeout 600 --log-level info \
    >"$tmp/listen.log" 2>&1 &
lpid=$!
check "listener answers C-ECHO" wait_for 20 echo_ok

# --- moved on: processed while the association is open; a late instance
# after the job started makes a new job with the whole series ---
x=$data/mr-cervical-c5-c7-sag-crop/dicom
y=$data/mr-cervical-t2-axial/dicom
# shellcheck disable=SC2046
"$hold" "$port" TESTER "$tmp/go1" $(first_but_last "$x") "$(ls "$y"/*.dcm | head -n 1)" \
    -- $(ls "$y"/*.dcm | sed 1d) "$(last "$x")" >"$tmp/hold1.log" 2>&1 &
apid=$!
spids=$apid
wait_for 60 held "$tmp/hold1.log"
check "series sent before the association moved on is done while it is open" \
    wait_for 300 is_state "done" 1
check "the association is still open then" alive "$apid"
check "the series it is still sending has not been queued" \
    eq $(($(state pending) + $(state running) + $(state "done"))) 1
check "that job holds the 66 instances sent so far" \
    [ "$(job_sizes "$x")" = 66 ]
touch "$tmp/go1"
wait "$apid"
check "the rest (a late instance of the done series) is accepted" eq $? 0
spids=""
check "the late instance makes a new job; both series are done" \
    wait_for 300 is_state "done" 3
check "the new job holds the whole updated series (66, then 67 instances)" \
    [ "$(job_sizes "$x")" = "66 67" ]
check "the other series was processed once, whole (16 instances)" \
    [ "$(job_sizes "$y")" = 16 ]

# --- a late instance while the series' job is still pending joins it ---
b=$data/ct-abdomen-t11-s1/dicom
z=$data/mr-lumbar-t2-sag/dicom
w=$data/mr-cervical-t2-sag/dicom
storescu -aet TESTER -aec SPINEPIPE 127.0.0.1 "$port" "$b"/*.dcm >/dev/null 2>&1
wait_for 60 is_state running 1
# The only worker is kept busy: the next jobs stay pending.
cpid=$(pgrep -P "$lpid")
kill -STOP $cpid
# shellcheck disable=SC2046
"$hold" "$port" TESTER "$tmp/go2" $(first_but_last "$z") "$(ls "$w"/*.dcm | head -n 1)" \
    -- $(ls "$w"/*.dcm | sed 1d) "$(last "$z")" >"$tmp/hold2.log" 2>&1 &
apid=$!
spids=$apid
wait_for 60 held "$tmp/hold2.log"
check "the moved-on series is queued (pending) while the association is open" \
    wait_for 60 is_state pending 1
touch "$tmp/go2"
wait "$apid"
spids=""
wait_for 60 is_state pending 2
check "its late instance joined the pending job (one job, 38 instances)" \
    [ "$(job_sizes "$z")" = 38 ]
kill -CONT $cpid
check "all 6 jobs done, none failed" wait_for 300 is_state "done" 6
check "every job's run.json says ok" \
    eq "$(grep -l '"status": "ok"' "$spool"/results/*/*/*/run.json | wc -l)" 6
check "nothing left in incoming/" eq "$(count "$spool/incoming" '*.dcm')" 0
kill -TERM "$lpid"
wait "$lpid"
lpid=""
exit 0

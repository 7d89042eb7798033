#!/bin/sh
# `spinepipe listen` against DCMTK's storescu/echoscu on loopback: every
# instance spooled once, series processed once, refusals, concurrent
# senders, SIGKILL and restart. TAP. Every server started here is killed
# on exit; every wait has a time limit.
set -u
exe=$1
tool=$2
data=$SPINEPIPE_DATA/spine
. "$(dirname "$0")/tap_lib.sh"
echo_ok() { echoscu -aet TESTER -aec SPINEPIPE 127.0.0.1 "$port" >/dev/null 2>&1; }

port=$($tool port)
start() {
    spool=$1
    shift
    "$exe" listen --port "$port" --spool "$spool" --allow TESTER \
        --allow SENDER1 --allow SENDER2 --allow SENDER3 --allow SENDER4 \
        --quiet 2 --idle-timeout 5 "$@" >>"$tmp/listen.log" 2>&1 &
    lpid=$!
    wait_for 20 echo_ok
}
stop() {
    kill -TERM "$lpid"
    wait "$lpid"
    rc=$?
    lpid=""
    return $rc
}
done_jobs() { count "$1/queue/done" '*.json'; }
all_done() { [ "$(done_jobs "$1")" -eq "$2" ]; }
# Series UIDs in the run.json files of a spool's results, sorted.
result_uids() {
    cat "$1"/results/*/*/*/run.json |
        sed -n 's/.*"series_uid": "\(.*\)".*/\1/p' | sort
}
ok_runs() { grep -l '"status": "ok"' "$1"/results/*/*/*/run.json | wc -l; }

echo "1..39"

# --- command line ---
"$exe" listen --help >/dev/null
check "--help exits 0" eq $? 0
"$exe" listen --spool "$tmp/x" 2>/dev/null
check "no --port exits 64" eq $? 64
"$exe" listen --port "$port" --spool "$tmp/x" --dest nonsense 2>/dev/null
check "--dest without AET@HOST:PORT exits 64" eq $? 64
"$exe" listen --port "$port" --spool "$tmp/x" --aet "THIS AE TITLE IS TOO LONG" 2>/dev/null
check "AE title over 16 characters exits 64" eq $? 64

# --- one series, refusals, malformed associations ---
s1=$tmp/spool1
ct=$data/ct-lumbar-l2-l4-crop/dicom
check "listener answers C-ECHO" start "$s1" --jobs 2
check "storescu sends the 47 CT instances" \
    storescu -aet TESTER -aec SPINEPIPE 127.0.0.1 "$port" "$ct"/*.dcm
check "the series becomes one job and is done" wait_for 120 all_done "$s1" 1
check "every instance spooled exactly once (47 files in jobs/)" \
    eq "$(count "$s1/jobs" '*.dcm')" 47
check "nothing left in incoming/, tmp/, pending/, running/, failed/" \
    eq "$(find "$s1/incoming" "$s1/tmp" "$s1/queue/pending" \
        "$s1/queue/running" "$s1/queue/failed" -type f | wc -l)" 0
check "run.json says ok for the received series" eq "$(ok_runs "$s1")" 1
check "run.json names the series that was sent" \
    [ "$(result_uids "$s1")" = "$(uid_of "$(ls "$ct"/*.dcm | head -1)")" ]

before=$(count "$s1" '*.dcm')
mr=$data/mr-cervical-t2-axial/dicom
check "unknown calling AE title refused" \
    sh -c "! storescu -aet EVIL -aec SPINEPIPE 127.0.0.1 $port $mr/*.dcm 2>/dev/null"
check "wrong called AE title refused" \
    sh -c "! storescu -aet TESTER -aec NOTUS 127.0.0.1 $port $mr/*.dcm 2>/dev/null"
sc=$SPINEPIPE_DATA/conformance/pydicom_test_files/JPEG2000.dcm
check "Secondary Capture (non CT/MR SOP class) refused" \
    sh -c "! storescu -aet TESTER -aec SPINEPIPE 127.0.0.1 $port $sc 2>/dev/null"
check "refused associations stored nothing" \
    eq "$(count "$s1" '*.dcm')" "$before"
check "non-DICOM bytes: connection closed" "$tool" junk "$port" text
check "A-ASSOCIATE-RQ claiming 2 GB: connection closed" \
    "$tool" junk "$port" huge
check "truncated A-ASSOCIATE-RQ: connection closed" \
    "$tool" junk "$port" short
check "listener still answers after malformed associations" echo_ok
other=$($tool port)
"$exe" listen --port "$other" --spool "$s1" --allow TESTER 2>"$tmp/lock.err"
check "a second listener on the same spool exits 73" eq $? 73
"$exe" listen --port "$port" --spool "$tmp/other" --allow TESTER 2>"$tmp/busy.err"
check "a port in use exits 69" eq $? 69
check "SIGTERM stops the listener with exit code 0" stop
# The idle job servers are told to exit, not killed: a sanitizer build
# checks them for leaks on the way out, and a report would be logged.
clean_servers() {
    ! grep -q 'job server [0-9][0-9]* \(did not exit\|ended by signal\|exited with code\)\|Sanitizer' "$tmp/listen.log"
}
check "the job servers exited cleanly at the stop (none killed, no sanitizer report)" \
    clean_servers

# --- a job that fails: failed/ with the reason, the listener goes on ---
s4=$tmp/spool4
start "$s4" --config "$tmp/no-such-pipeline.ini" >/dev/null
storescu -aet TESTER -aec SPINEPIPE 127.0.0.1 "$port" "$mr"/*.dcm >/dev/null 2>&1
failed_one() { [ "$(count "$s4/queue/failed" '*.json')" -eq 1 ]; }
check "a failing job moves to queue/failed/" wait_for 60 failed_one
check "its JSON gives the reason (the exit code of 'spinepipe run')" \
    grep -q '"error": ".*exited with code' "$s4"/queue/failed/*.json
check "the listener keeps running after the failure" echo_ok
# Nine encodings of one MR image: each stored in the syntax it came in.
# storescu proposes one compressed syntax per run, so one run per file.
ts=$SPINEPIPE_DATA/conformance/dcm_qa_ts/In
syntaxes() { for f in "$@"; do dcmdump -M +P 0002,0010 "$f" | awk '{print $3}'; done | sort; }
for f in "$ts"/*.dcm; do
    case $(syntaxes "$f") in
    =RLELossless) opt=-xr ;;
    =JPEGLossless*) opt=-xs ;;
    =JPEGLSLossless) opt=-xt ;;
    =JPEG2000LosslessOnly) opt=-xv ;;
    =LittleEndianImplicit) opt=-xi ;;
    *) opt=-x= ;;
    esac
    storescu -R "$opt" -aet TESTER -aec SPINEPIPE 127.0.0.1 "$port" "$f" \
        >/dev/null 2>&1
done
# They are 9 instances of one series, each on its own association: each
# association end queues the series again, and a job that has started is
# followed by one holding the whole updated series (links to the earlier
# instances), so jobs/ can hold an instance more than once.
idle() {
    [ $(($(count "$s4/queue/pending" '*.json') + $(count "$s4/queue/running" '*.json') + $(count "$s4/incoming" '*.dcm'))) -eq 0 ]
}
wait_for 60 idle
distinct=$(find "$s4/jobs" -name '*.dcm' | awk -F/ '!seen[$NF]++')
# shellcheck disable=SC2086
check "9 transfer syntaxes (JPEG, JPEG-LS, J2K, RLE, big endian...) spooled as sent" \
    [ "$(syntaxes $distinct)" = "$(syntaxes "$ts"/*.dcm "$mr"/*.dcm)" ]
newest=$(ls -d "$s4"/jobs/*/ | tail -n 1)
check "the newest job holds all 9 instances of that series" \
    eq "$(ls "$newest" | wc -l)" 9
stop >/dev/null

# --- four concurrent senders, 332 instances in 6 series ---
s2=$tmp/spool2
start "$s2" --jobs 3 >/dev/null
send() {
    aet=$1
    shift
    storescu -aet "$aet" -aec SPINEPIPE 127.0.0.1 "$port" "$@" \
        >"$tmp/$aet.log" 2>&1
}
send SENDER1 "$data"/ct-abdomen-t11-s1/dicom/*.dcm & spids="$spids $!"
send SENDER2 "$data"/mr-cervical-t2-axial/dicom/*.dcm \
    "$data"/mr-lumbar-t2-sag/dicom/*.dcm & spids="$spids $!"
send SENDER3 "$data"/mr-cervical-c5-c7-sag-crop/dicom/*.dcm & spids="$spids $!"
send SENDER4 "$data"/ct-lumbar-l2-l4-crop/dicom/*.dcm \
    "$data"/mr-cervical-t2-sag/dicom/*.dcm & spids="$spids $!"
fails=0
for p in $spids; do wait "$p" || fails=$((fails + 1)); done
spids=""
check "4 concurrent storescu senders all succeed" eq "$fails" 0
expected=$(for d in "$data"/*/dicom; do uid_of "$(ls "$d"/*.dcm | head -1)"; done | sort)
check "6 series become 6 jobs, all done" wait_for 300 all_done "$s2" 6
check "332 instances spooled, each once" eq "$(count "$s2/jobs" '*.dcm')" 332
check "each of the 6 series processed exactly once, all ok" \
    sh -c "[ \"\$(cat)\" = \"$expected\" ] && [ $(ok_runs "$s2") -eq 6 ]" \
    <<EOF2
$(result_uids "$s2")
EOF2
check "each job wrote its SR (6 in all) and, without --send-seg, no SEG" \
    sh -c "[ $(count "$s2/results" sr.dcm) -eq 6 ] && [ $(count "$s2/results" seg.dcm) -eq 0 ]"
stop >/dev/null

# --- SIGKILL mid-batch, then restart ---
s3=$tmp/spool3
start "$s3" --jobs 1 >/dev/null
storescu -aet TESTER -aec SPINEPIPE 127.0.0.1 "$port" \
    "$data"/ct-abdomen-t11-s1/dicom/*.dcm "$data"/mr-lumbar-t2-sag/dicom/*.dcm \
    "$ct"/*.dcm >/dev/null 2>&1
running() { [ "$(count "$s3/queue/running" '*.json')" -gt 0 ]; }
wait_for 60 running
kill -9 "$lpid"
wait "$lpid" 2>/dev/null
lpid=""
before=$(done_jobs "$s3")
# A sender cut off mid-series by the kill: what was acknowledged must stay.
start "$s3" --jobs 1 >/dev/null
storescu -v -aet TESTER -aec SPINEPIPE 127.0.0.1 "$port" \
    "$data"/mr-cervical-c5-c7-sag-crop/dicom/*.dcm >"$tmp/cut.log" 2>&1 &
spids=$!
acked() { [ "$(grep -c 'Received Store Response (Success)' "$tmp/cut.log")" -ge 20 ]; }
wait_for 60 acked
kill -9 "$lpid"
wait "$lpid" 2>/dev/null
lpid=""
wait "$spids" 2>/dev/null
spids=""
acks=$(grep -c 'Received Store Response (Success)' "$tmp/cut.log")
start "$s3" --jobs 2 >/dev/null
check "after SIGKILL and restart all 4 series are done" \
    wait_for 300 all_done "$s3" 4
check "a job was interrupted by the kill (only $before of 3 were done)" \
    [ "$before" -lt 3 ]
check "no job failed, each series ran to 'ok' exactly once" \
    sh -c "[ $(count "$s3/queue/failed" '*.json') -eq 0 ] && [ $(ok_runs "$s3") -eq 4 ] && [ \$(sort | uniq -d | wc -l) -eq 0 ]" <<EOF2
$(result_uids "$s3")
EOF2
cut=$(ls -d "$s3"/jobs/*/ | while read -r j; do
    f=$(ls "$j" | head -1)
    [ "$(uid_of "$j/$f")" = "$(uid_of "$(ls "$data"/mr-cervical-c5-c7-sag-crop/dicom/*.dcm | head -1)")" ] && ls "$j" | wc -l
done)
check "all $acks acknowledged instances of the cut series kept ($cut spooled)" \
    [ "${cut:-0}" -ge "$acks" ]
check "every instance of the 3 complete series spooled exactly once" \
    eq "$(($(count "$s3/jobs" '*.dcm') - ${cut:-0}))" $((112 + 38 + 47))
last_stop() { stop && clean_servers; }
check "the last stop: exit code 0, job servers exited cleanly" last_stop
grep -q "ERROR\|error" "$tmp/listen.log" && sed 's/^/# /' "$tmp/listen.log" | grep -i error | head -20
exit 0

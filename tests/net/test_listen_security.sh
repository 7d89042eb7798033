#!/bin/sh
# Security defaults of `spinepipe listen`: bound to loopback, calling AE
# titles refused unless allowed, the association limit, the idle timeout,
# the data set size limit, and TLS (plaintext refused when TLS is on; client
# certificates checked with --tls-ca). TAP.
set -u
exe=$1
tool=$2
hold="python3 $(dirname "$0")/hold_assoc.py"
ct=$SPINEPIPE_SOURCE_ROOT/sample_dicom/ct-axial
. "$(dirname "$0")/tap_lib.sh"

port=$($tool port)
echo_as() { echoscu -aet "$1" -aec SPINEPIPE 127.0.0.1 "$port" >/dev/null 2>&1; }
start() {
    spool=$1
    shift
    "$exe" listen --port "$port" --spool "$spool" --quiet 2 "$@" \
        >>"$tmp/listen.log" 2>&1 &
    lpid=$!
}
stop() {
    kill -TERM "$lpid"
    wait "$lpid"
    rc=$?
    lpid=""
    return $rc
}
contains() { grep -q -- "$2" "$1"; }
ne() { [ "$1" -ne "$2" ]; }

echo "1..19"

# --- calling AE titles ---
"$exe" listen --port "$port" --spool "$tmp/x" 2>"$tmp/noallow.err"
check "without --allow or --allow-any: exit 64" eq $? 64
check "... saying how to name the accepted AE titles" \
    contains "$tmp/noallow.err" "no --allow AET given"
start "$tmp/s1" --allow TESTER --max-associations 1 --idle-timeout 2
check "an allowed calling AE title is accepted" wait_for 20 echo_as TESTER
check "by default the listener binds to loopback only (127.0.0.1:$port)" \
    sh -c '[ "$1" = "$2" ]' _ \
    "$(ss -ltnH "sport = :$port" | awk '{print $4}')" "127.0.0.1:$port"
check "an unknown calling AE title is refused" sh -c "! echoscu -aet INTRUDER -aec SPINEPIPE 127.0.0.1 $port >/dev/null 2>&1"

# --- association limit and idle timeout ---
$hold "$port" TESTER >"$tmp/hold.out" 2>&1 &
hpid=$!
spids=$hpid
wait_for 10 grep -q accepted "$tmp/hold.out"
check "with one association held, a second is refused (limit 1)" \
    sh -c "! echoscu -aet TESTER -aec SPINEPIPE 127.0.0.1 $port >/dev/null 2>&1"
wait "$hpid"
hrc=$?
spids=""
idle=$(sed -n 2p "$tmp/hold.out")
check "the silent association is closed by the listener" eq "$hrc" 0
check "... after the 2 s idle timeout (took ${idle:-?} s)" \
    python3 -c "import sys; sys.exit(not 1.5 <= float('${idle:-99}') <= 6)"
check "after it, associations are accepted again" echo_as TESTER
check "SIGTERM stops the listener (exit 0)" stop

start "$tmp/s2" --allow-any
check "--allow-any accepts any calling AE title" wait_for 20 echo_as WHOEVER
check "SIGTERM stops it" stop

# --- data set size ---
start "$tmp/s3" --allow TESTER --max-dataset-mb 0.02
wait_for 20 echo_as TESTER
storescu -aet TESTER -aec SPINEPIPE 127.0.0.1 "$port" "$ct/IMG00001.dcm" \
    >/dev/null 2>&1
check "a 33 KB data set over a 0.02 MiB limit is not acknowledged" ne $? 0
check "the log names the sender and the limit" \
    contains "$tmp/listen.log" "association from 'TESTER' aborted: a data set exceeded the limit of 20971 bytes"
check "nothing of it was spooled" \
    eq "$(count "$tmp/s3/incoming" '*.dcm')$(count "$tmp/s3/tmp" '*')" 00
check "the listener keeps answering" echo_as TESTER
stop

# --- TLS ---
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=spinepipe-test \
    -keyout "$tmp/key.pem" -out "$tmp/cert.pem" >/dev/null 2>&1
start "$tmp/s4" --allow TESTER --tls-key "$tmp/key.pem" \
    --tls-cert "$tmp/cert.pem" --tls-ca "$tmp/cert.pem"
tls_echo() {
    echoscu -aet TESTER -aec SPINEPIPE +tls "$tmp/key.pem" "$tmp/cert.pem" \
        +cf "$tmp/cert.pem" 127.0.0.1 "$port" >/dev/null 2>&1
}
check "TLS: a client with a certificate the CA signed is accepted" \
    wait_for 20 tls_echo
check "TLS required: a plaintext client is refused" \
    sh -c "! echoscu -to 5 -aet TESTER -aec SPINEPIPE 127.0.0.1 $port >/dev/null 2>&1"
check "TLS with --tls-ca: an anonymous TLS client is refused" \
    sh -c "! echoscu -aet TESTER -aec SPINEPIPE +tla +cf $tmp/cert.pem 127.0.0.1 $port >/dev/null 2>&1"
stop

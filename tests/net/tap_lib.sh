# Shared by the network tests (sourced): a temporary folder, servers killed
# on exit (their PIDs in lpid, opid, spids), TAP checks and bounded waits.
tmp=$(mktemp -d)
lpid=""
opid=""
spids=""
cleanup() {
    for p in $lpid $opid $spids; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

. "$(dirname "$0")/../common/tap.sh"
# wait_for SECONDS COMMAND...: poll every 0.1 s.
wait_for() {
    limit=$(($1 * 10))
    shift
    i=0
    while [ $i -lt $limit ]; do
        "$@" && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}
count() { find "$1" -type f -name "$2" 2>/dev/null | wc -l; }
eq() { [ "$1" -eq "$2" ]; }
uid_of() { dcmdump +P 0020,000e "$1" | sed 's/.*\[\(.*\)\].*/\1/'; }

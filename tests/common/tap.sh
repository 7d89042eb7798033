# TAP checks for the shell tests (sourced): a counter, one line a check.
# $failed turns 1 at the first failed check, for the script's exit status.
n=0
failed=0
# check DESCRIPTION COMMAND...: "ok N - DESCRIPTION" when COMMAND succeeds.
check() {
    desc=$1
    shift
    n=$((n + 1))
    if "$@"; then echo "ok $n - $desc"
    else echo "not ok $n - $desc"; failed=1; fi
}
# check_value DESCRIPTION EXPECTED ACTUAL: ok when the two are the same
# string (an exit status, a count); the failure line shows both.
check_value() {
    n=$((n + 1))
    if [ "$2" = "$3" ]; then echo "ok $n - $1"
    else echo "not ok $n - $1 (got $3, expected $2)"; failed=1; fi
}
# skip DESCRIPTION REASON: a check that cannot run here.
skip() {
    n=$((n + 1))
    echo "ok $n - $1 # SKIP $2"
}

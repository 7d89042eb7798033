# TAP checks for the shell tests (sourced): a counter, one line a check.
n=0
# check DESCRIPTION COMMAND...: "ok N - DESCRIPTION" when COMMAND succeeds.
check() {
    desc=$1
    shift
    n=$((n + 1))
    if "$@"; then echo "ok $n - $desc"; else echo "not ok $n - $desc"; fi
}
# skip DESCRIPTION REASON: a check that cannot run here.
skip() {
    n=$((n + 1))
    echo "ok $n - $1 # SKIP $2"
}

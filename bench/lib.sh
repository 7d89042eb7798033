# The prologue every bench script shares; sourced from the repository root:
#
#   set -eu
#   cd "$(dirname "$0")/.."
#   bench_name=bench/NAME.sh
#   bench_usage='[-n RUNS] [-b BUILD_DIR] [FOLDER ...]'
#   runs=5                       # default of -n
#   . bench/lib.sh
#   bench_parse 'p:' "$@"        # letters beyond n: and b:, handled by the
#   shift $((OPTIND - 1))        # script's bench_opt LETTER VALUE
#
# It sets build (default `build`, -b), runs (-n), spinepipe (the CLI of
# that build), and gives bench_need, bench_need_cmd, bench_tmp, now and
# median.

build=build
runs=${runs:-5}

bench_die() { # EXIT_CODE MESSAGE
    code=$1; shift
    echo "$bench_name: $*" >&2
    exit "$code"
}

bench_usage() { echo "usage: $bench_name $bench_usage" >&2; exit 64; }

# bench_parse EXTRA_LETTERS "$@": -n RUNS and -b BUILD_DIR, and the
# script's own letters through bench_opt; the caller then shifts by
# $((OPTIND - 1)).
bench_parse() {
    extra=$1; shift
    OPTIND=1
    while getopts "n:b:$extra" opt; do
        case $opt in
        n) runs=$OPTARG ;;
        b) build=$OPTARG ;;
        \?) bench_usage ;;
        *) bench_opt "$opt" "$OPTARG" || bench_usage ;;
        esac
    done
    case $runs in '' | *[!0-9]*) bench_usage ;; esac
    spinepipe=$build/pipeline/cli/spinepipe
}

# bench_need FILE...: built programs of $build.
bench_need() {
    for tool in "$@"; do
        [ -x "$tool" ] || bench_die 66 "$tool missing; run: ninja -C $build"
    done
}

# bench_need_cmd COMMAND HINT: a program on PATH (or a path).
bench_need_cmd() {
    command -v "$1" >/dev/null 2>&1 || bench_die 69 "$1 not found ($2)"
}

# bench_tmp [CLEANUP]: tmp=a fresh folder, removed on exit after CLEANUP
# (a command) has run.
bench_tmp() {
    tmp=$(mktemp -d)
    bench_cleanup=${1:-:}
    trap '$bench_cleanup || true; rm -rf "$tmp"' EXIT
    trap 'exit 130' INT TERM
}

now() { date +%s.%N; }

# median [FILE COLUMN]: of that column of FILE (space separated), or of
# the numbers on stdin; the mean of the two middle ones for an even count.
median() {
    if [ $# -eq 2 ]; then cut -d' ' -f"$2" "$1"; else cat; fi | sort -g |
        awk '{v[NR] = $1} END {
            if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

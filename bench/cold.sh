#!/bin/sh
# Read + window + denoise as a process per run when the memory it gets is
# "cold" (issue 4; bench/README.md, "eleventh session"): on this VM the guest
# hands free 2 MiB blocks back to the host a second or two after they are
# freed, and a huge page made of such a block costs a host fault per 4 KiB
# when first written. In bench/compare.sh the rwd row runs after seconds of
# ImageMagick, which frees little memory, so its volume comes from blocks
# the host took back; back-to-back runs (breakdown.sh) reuse the memory the
# run before freed moments earlier. This reproduces compare.sh's condition
# in seconds:
#
#   bench/cold.sh [-n RUNS] [-b BUILD_DIR] [-B OTHER_BUILD] [-p PRE]
#                 DICOM_FOLDER
#
# Before each measured run, PRE (default busy):
#   busy   both CPUs busy for 3 s, no memory allocated (as mogrify before
#          the rwd row: compare.sh's CPU time of the row is reproduced)
#   sleep  3 s idle
#   none   nothing: back to back, the memory the run before freed
# then one `spinepipe run DIR --config bench/window-denoise.ini`, timed
# (wall, user + system CPU, minor page faults). With -B, the two builds
# alternate within each round (ABAB, then BABA), so that load from other
# users of the machine falls on both alike. Prints the median, minimum and
# maximum wall time, the median CPU time and faults per build.
set -eu
cd "$(dirname "$0")/.."
bench_name=bench/cold.sh
bench_usage='[-n RUNS] [-b BUILD_DIR] [-B OTHER_BUILD] [-p busy|sleep|none] FOLDER'
runs=7
other=
pre=busy
. bench/lib.sh
bench_opt() {
    case $1 in
    B) other=$2 ;;
    p) case $2 in busy | sleep | none) pre=$2 ;; *) return 1 ;; esac ;;
    *) return 1 ;;
    esac
}
bench_parse 'B:p:' "$@"
shift $((OPTIND - 1))
[ $# -eq 1 ] || bench_usage
dir=$1
bench_need "$spinepipe"
[ -z "$other" ] || bench_need "$other/pipeline/cli/spinepipe"
bench_need_cmd /usr/bin/time "apt-get install time"
bench_need_cmd timeout "coreutils"
bench_tmp

precondition() {
    case $pre in
    busy)
        # Shell loops: CPU without memory. timeout ends them (status 124).
        timeout 3 sh -c 'while :; do :; done' &
        timeout 3 sh -c 'while :; do :; done' || true
        wait || true ;;
    sleep) sleep 3 ;;
    none) ;;
    esac
}

measure() { # NAME SPINEPIPE: append "wall cpu minflt" to $tmp/NAME
    rm -rf "$tmp/out"
    precondition
    t0=$(now)
    /usr/bin/time -f '%U %S %R' -o "$tmp/cpu" "$2" run "$dir" -o "$tmp/out" \
        --config bench/window-denoise.ini >/dev/null 2>&1 ||
        bench_die 70 "$2 run $dir failed"
    t1=$(now)
    tail -n 1 "$tmp/cpu" | awk -v a="$t0" -v b="$t1" \
        '{ printf "%.4f %.4f %d\n", b - a, $1 + $2, $3 }' >>"$tmp/$1"
}

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); runs=$runs; pre=$pre; $(nproc) CPUs"
i=0
while [ "$i" -lt "$runs" ]; do
    if [ -z "$other" ] || [ $((i % 2)) -eq 0 ]; then
        measure this "$spinepipe"
        [ -z "$other" ] || measure other "$other/pipeline/cli/spinepipe"
    else
        measure other "$other/pipeline/cli/spinepipe"
        measure this "$spinepipe"
    fi
    i=$((i + 1))
done
printf '%-30s %8s %8s %8s %8s %8s\n' build wall_s min_s max_s cpu_s minflt
for n in this other; do
    [ -f "$tmp/$n" ] || continue
    [ "$n" = this ] && b=$build || b=$other
    printf '%-30s %8.3f %8.3f %8.3f %8.3f %8d\n' "$b" "$(median "$tmp/$n" 1)" \
        "$(cut -d' ' -f1 "$tmp/$n" | sort -g | head -n 1)" \
        "$(cut -d' ' -f1 "$tmp/$n" | sort -g | tail -n 1)" \
        "$(median "$tmp/$n" 2)" "$(median "$tmp/$n" 3)"
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

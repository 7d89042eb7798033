#!/bin/sh
# Where the time of read + window + denoise goes (issue 4, "within 4x of the
# floor"): runs, interleaved, N rounds of
#   start-up   spinepipe --version (exec and dynamic loading of its libraries)
#   scan       spinepipe info DIR (start-up + every header read)
#   window     bench/window-only.ini: start-up, scan, stage loading, pixel
#              decode to float32, window (U8 view), run.json
#              (a pipeline needs a stage; window is the cheapest)
#   rwd        bench/window-denoise.ini: read + 3x3 median + window
#   resident   the same pipeline in one process over the series and R
#              copies of it (new series UID, number and description, by
#              dcmodify, in the temp folder): (resident - rwd) / R is what
#              each series after the first costs in a resident process
#              (no start-up; its volume buffer reused from the series
#              before, engine/volume_pool.h)
#   floor      bench/floor_bench (page-cache read + memcpy of the volume)
#   touch      floor_bench's first write of a fresh float32 volume (page
#              faults + kernel zeroing; each new volume of a run pays it)
# With -B OTHER_BUILD the same spinepipe rows run for that build too, in
# the same rounds (before/after comparisons under the same load).
# and prints the median wall and CPU (user + system) seconds of each, the
# difference to the row before it (the cost of what that row adds), and
# the stages' own wall seconds from run.json.
#
#   bench/breakdown.sh [-n RUNS] [-b BUILD_DIR] [-B OTHER_BUILD] [-r COPIES]
#                      DICOM_FOLDER
set -eu
cd "$(dirname "$0")/.."
bench_name=bench/breakdown.sh
bench_usage='[-n RUNS] [-b BUILD_DIR] [-B OTHER_BUILD] [-r COPIES] FOLDER'
runs=5
other=
copies=3
. bench/lib.sh
bench_opt() {
    case $1 in
    B) other=$2 ;;
    r) case $2 in '' | *[!0-9]* | 0) return 1 ;; esac; copies=$2 ;;
    *) return 1 ;;
    esac
}
bench_parse 'B:r:' "$@"
shift $((OPTIND - 1))
[ $# -eq 1 ] || bench_usage
dir=$1
floor=$build/bench/floor_bench
bench_need "$spinepipe" "$floor"
[ -z "$other" ] || bench_need "$other/pipeline/cli/spinepipe"
bench_need_cmd /usr/bin/time "apt-get install time"
bench_need_cmd dcmodify "apt-get install dcmtk"
bench_tmp

measure() { # NAME CMD...: append "wall cpu" to $tmp/NAME
    name=$1; shift
    rm -rf "$tmp/out"
    t0=$(date +%s.%N)
    /usr/bin/time -f '%U %S' -o "$tmp/cpu" "$@" >/dev/null 2>&1 || true
    t1=$(date +%s.%N)
    tail -n 1 "$tmp/cpu" | awk -v a="$t0" -v b="$t1" '{ printf "%.4f %.4f\n", b - a, $1 + $2 }' >>"$tmp/$name"
}
stage_seconds() { # STAGE: its seconds in the last run's run.json
    find "$tmp/out" -name run.json -exec cat {} + | tr -d ' \n' |
        sed -n "s/.*\"name\":\"$1\",\"version\":\"[^\"]*\",\"status\":\"ok\",\"seconds\":\([0-9.eE+-]*\).*/\1/p"
    echo
}

info=$("$spinepipe" info --json "$dir" 2>/dev/null | tr -d ' \n')
cols=$(echo "$info" | sed -n 's/.*"columns":\([0-9]*\).*/\1/p')
rows=$(echo "$info" | sed -n 's/.*"rows":\([0-9]*\).*/\1/p')
slices=$(echo "$info" | sed -n 's/.*"slices":\([0-9]*\).*/\1/p')
# The copies for the resident rows: the same files under another series.
# Only files with a SeriesInstanceUID are modified: dcmodify would rewrite
# a DICOMDIR's meta group too (its media storage class becomes an image's),
# which no real folder has.
images=
for f in "$dir"/*; do
    [ -f "$f" ] && dcmdump -q +P 0020,000E "$f" 2>/dev/null | grep -q . &&
        images="$images ${f##*/}"
done
copy_dirs=
c=1
while [ "$c" -le "$copies" ]; do
    mkdir -p "$tmp/copy$c"
    for f in "$dir"/*; do [ -f "$f" ] && cp "$f" "$tmp/copy$c/"; done
    chmod -R u+w "$tmp/copy$c"
    # shellcheck disable=SC2086
    (cd "$tmp/copy$c" && dcmodify -nb -q -ie -m "(0020,000E)=2.25.$$$c" \
        -m "(0020,0011)=9$c" -m "(0008,103E)=breakdown copy $c" $images \
        2>/dev/null) || true
    copy_dirs="$copy_dirs $tmp/copy$c"
    c=$((c + 1))
done
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); runs=$runs; $(nproc) CPUs; $cols x $rows x $slices"
rows_for() { # SPINEPIPE PREFIX
    measure "$2startup" "$1" --version
    measure "$2scan" "$1" info "$dir"
    measure "$2window" "$1" run "$dir" -o "$tmp/out" --config bench/window-only.ini
    stage_seconds window >>"$tmp/$2window-stage"
    measure "$2rwd" "$1" run "$dir" -o "$tmp/out" --config bench/window-denoise.ini
    stage_seconds denoise >>"$tmp/$2rwd-denoise"
    stage_seconds window >>"$tmp/$2rwd-window"
    # shellcheck disable=SC2086
    measure "$2resident" "$1" run "$dir" $copy_dirs -o "$tmp/out" \
        --config bench/window-denoise.ini
}
# The resident run must process every copy (distinct series, all ok).
# shellcheck disable=SC2086
"$spinepipe" run "$dir" $copy_dirs -o "$tmp/check" \
    --config bench/window-denoise.ini >/dev/null 2>&1 ||
    bench_die 70 "the resident run over $dir and its copies failed"
[ "$(find "$tmp/check" -name run.json | wc -l)" -eq $((copies + 1)) ] ||
    bench_die 70 "the resident run did not make $((copies + 1)) series"
rm -rf "$tmp/check"
i=0
while [ "$i" -le "$runs" ]; do
    [ "$i" -eq 0 ] && pre=warm- || pre=
    rows_for "$spinepipe" "$pre"
    [ -z "$other" ] || rows_for "$other/pipeline/cli/spinepipe" "${pre}other-"
    "$floor" $((cols * rows * slices)) "$dir"/* 2>/dev/null |
        sed -n 's/.*read_s=\([0-9.]*\).*memcpy_s=\([0-9.]*\).*touch_s=\([0-9.]*\) touch_cpu_s=\([0-9.]*\).*/\1 \2 \3 \4/p' >"$tmp/fl"
    awk '{ printf "%.5f %.5f\n", $1 + $2, $1 + $2 }' "$tmp/fl" >>"$tmp/${pre}floor"
    awk '{ printf "%.5f %.5f\n", $3, $4 }' "$tmp/fl" >>"$tmp/${pre}touch"
    i=$((i + 1))
done
fw=$(median "$tmp/floor" 1)
table() { # PREFIX
    printf '%-15s %8s %8s %10s %10s %9s %9s\n' step wall_s cpu_s +wall_s +cpu_s wall/floor cpu/floor
    pw=0; pc=0
    for s in startup scan window rwd; do
        w=$(median "$tmp/$1$s" 1); c=$(median "$tmp/$1$s" 2)
        awk -v s="$1$s" -v w="$w" -v c="$c" -v pw="$pw" -v pc="$pc" -v f="$fw" 'BEGIN {
            printf "%-15s %8.3f %8.3f %10.3f %10.3f %9.1f %9.1f\n", s, w, c, w - pw, c - pc, w / f, c / f }'
        pw=$w; pc=$c
    done
    for s in window-stage rwd-denoise rwd-window; do
        printf '  %-18s stage wall %.3f s (run.json)\n' "$1$s" "$(median "$tmp/$1$s" 1)"
    done
    # Per round, (resident - rwd) / copies: the rounds' own pairs.
    paste -d ' ' "$tmp/$1resident" "$tmp/$1rwd" |
        awk -v k="$copies" '{ printf "%.5f %.5f\n", ($1 - $3) / k, ($2 - $4) / k }' >"$tmp/$1per"
    w=$(median "$tmp/$1per" 1); c=$(median "$tmp/$1per" 2)
    awk -v s="$1" -v n=$((copies + 1)) -v w="$w" -v c="$c" -v f="$fw" -v rw="$(median "$tmp/$1resident" 1)" 'BEGIN {
        printf "%-15s %8.3f s wall for %d series in one process\n", s "resident", rw, n
        printf "%-15s %8.3f %8.3f %10s %10s %9.1f %9.1f   <- each series after the first\n", s "per-series", w, c, "", "", w / f, c / f }'
}
table ""
[ -z "$other" ] || { echo "$other:"; table other-; }
for s in floor touch; do
    printf '%-15s %8.3f %8.3f\n' "$s" "$(median "$tmp/$s" 1)" "$(median "$tmp/$s" 2)"
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "medians of $runs rounds after one warm-up; +: difference to the row above (window's: pixel"
echo "decode, stage loading, window, run.json; rwd's: the median and its output volume)."
echo "touch: first write of one fresh float32 volume of the series' size (not part of the floor)."

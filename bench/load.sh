#!/bin/sh
# Load benchmark: spinepipe's DICOM loader (bench/load_bench) and
# `spinepipe convert` against dcm2niix converting the same folder, in the
# same run. Prints a table of medians with ratios against dcm2niix.
#
#   bench/load.sh [-n RUNS] [-b BUILD_DIR] [DICOM_FOLDER ...]
#
# Default folder: ../shared/data/conformance/ct-head-phantom-512/dicom
# (140 slices of 512x512). The 512x512x400 phantom of the issue comes from
# the phantom generator:
#   spinepipe phantom --output /tmp/phantom512 --matrix 512 --slices 400 \
#       --pixel 0.5 --slice-thickness 0.8
#   bench/load.sh ../shared/data/conformance/ct-head-phantom-512/dicom \
#       /tmp/phantom512/dicom
#
# Wall time is measured around each process (start-up included for all
# tools alike); peak memory is the process's maximum resident set size
# (/usr/bin/time %M). dcm2niix runs with -z n (no gzip) so that both
# sides write an uncompressed .nii and compression speed does not
# dominate. One warm-up round fills the page cache; RUNS rounds follow,
# tools interleaved, and the median is reported.
# Targets (issue): load at least as fast as dcm2niix converts (speed ratio
# >= 1); loader peak memory <= 1.5 x the float32 volume.
set -eu
cd "$(dirname "$0")/.."
bench_name=bench/load.sh
bench_usage='[-n RUNS] [-b BUILD_DIR] [FOLDER ...]'
runs=5
. bench/lib.sh
bench_parse '' "$@"
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- ../shared/data/conformance/ct-head-phantom-512/dicom

bench=$build/bench/load_bench
bench_need "$bench" "$spinepipe"
bench_need_cmd dcm2niix "apt-get install dcm2niix"
bench_need_cmd /usr/bin/time "apt-get install time"
bench_tmp

# measure NAME CMD...: append "seconds peak_kb" to $tmp/NAME
measure() {
    name=$1; shift
    rm -rf "$tmp/out"; mkdir "$tmp/out"
    t0=$(now)
    # 3 is spinepipe's partial success (e.g. a DICOMDIR was skipped).
    rc=0
    /usr/bin/time -f %M -o "$tmp/rss" "$@" >"$tmp/stdout" 2>"$tmp/stderr" || rc=$?
    if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then
        echo "bench/load.sh: failed ($rc): $*" >&2; cat "$tmp/stderr" >&2; exit 70
    fi
    t1=$(now)
    awk -v a="$t0" -v b="$t1" -v kb="$(tail -n 1 "$tmp/rss")" \
        'BEGIN { printf "%.4f %d\n", b - a, kb }' >>"$tmp/$name"
}

printf '%-34s %6s %-22s %8s %9s %9s %8s %8s %8s\n' folder slices tool \
    median_s slices/s peak_MiB speed_x mem_x peak/f32
for dir in "$@"; do
    rm -f "$tmp/loader" "$tmp/convert" "$tmp/dcm2niix"
    round() {
        measure loader "$bench" "$dir"
        info=$(cat "$tmp/stdout")
        measure convert "$spinepipe" convert "$dir" -o "$tmp/out/ours.nii"
        measure dcm2niix dcm2niix -z n -o "$tmp/out" -f ref "$dir"
    }
    round
    rm -f "$tmp/loader" "$tmp/convert" "$tmp/dcm2niix"
    i=0
    while [ $i -lt "$runs" ]; do round; i=$((i + 1)); done
    slices=$(echo "$info" | sed -n 's/.*slices=\([0-9]*\).*/\1/p')
    f32_kb=$(echo "$info" | sed -n 's/.*f32_volume_kb=\([0-9]*\).*/\1/p')
    ref_s=$(median "$tmp/dcm2niix" 1)
    ref_kb=$(median "$tmp/dcm2niix" 2)
    label=$(echo "$dir" | awk -F/ '{n=NF; if ($n == "dicom" || $n == "") n--; print $n}')
    for tool in loader convert dcm2niix; do
        s=$(median "$tmp/$tool" 1)
        kb=$(median "$tmp/$tool" 2)
        awk -v f="$label" -v n="$slices" -v t="$tool" -v s="$s" -v kb="$kb" \
            -v rs="$ref_s" -v rkb="$ref_kb" -v fkb="$f32_kb" 'BEGIN {
            printf "%-34s %6d %-22s %8.3f %9.1f %9.1f %8.2f %8.2f %8.2f\n",
                f, n, t, s, n / s, kb / 1024, rs / s, kb / rkb, kb / fkb }'
    done
done
echo "speed_x = dcm2niix median time / tool median time (>= 1: as fast or faster);"
echo "mem_x = tool peak RSS / dcm2niix peak RSS; peak/f32 = peak RSS / float32 volume."
echo "loader = bench/load_bench (scan + decode to float32); convert = spinepipe convert -o x.nii;"
echo "dcm2niix = dcm2niix -z n. Medians of $runs runs after one warm-up."

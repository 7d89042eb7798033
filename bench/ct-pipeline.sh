#!/bin/sh
# CT pipeline benchmark (issue 5, "Speed"): `spinepipe run` on the
# 512x512x400 phantom (0.5 mm pixels, 0.8 mm slices) with
#   baseline  bench/window-only.ini  (read the DICOM series, window it)
#   analysis  bench/ct-analysis.ini  (read to report: window, segment_bone,
#             segment_vertebrae, label_levels, segment_canal, measure,
#             findings, report)
#   shipped   config/ct-lumbar.ini   (the analysis plus png planes,
#             segmentation.nii.gz and the HU TIFF)
# in the same run, each RUNS times interleaved after one warm-up round;
# prints median wall time, CPU time (user + system: on a shared machine the
# wall time also counts other people's jobs) and peak RSS, the ratios
# against the baseline, and peak RSS against the float32 volume
# (512 x 512 x 400 x 4 bytes).
# Targets (issue): analysis wall time < 5 s; peak RSS < 3 x the float32
# volume.
#
#   bench/ct-pipeline.sh [-n RUNS] [-b BUILD_DIR] [-p PHANTOM_DIR]
#
# The phantom is generated into PHANTOM_DIR (default
# /tmp/spinepipe-ct-bench-p512) when it is not there yet.
set -eu
cd "$(dirname "$0")/.."
bench_name=bench/ct-pipeline.sh
bench_usage='[-n RUNS] [-b BUILD_DIR] [-p PHANTOM_DIR]'
runs=3
phantom=/tmp/spinepipe-ct-bench-p512
. bench/lib.sh
bench_opt() { [ "$1" = p ] && phantom=$2; }
bench_parse 'p:' "$@"
shift $((OPTIND - 1))
[ $# -eq 0 ] || bench_usage
bench_need "$spinepipe"
bench_need_cmd /usr/bin/time "apt-get install time"
if [ ! -f "$phantom/truth.json" ]; then
    echo "generating the phantom in $phantom ..." >&2
    "$spinepipe" phantom --output "$phantom" --matrix 512 --slices 400 \
        --pixel 0.5 --slice-thickness 0.8 >/dev/null
fi

bench_tmp

# measure NAME CONFIG: append "seconds peak_kb" to $tmp/NAME
measure() {
    rm -rf "$tmp/out"
    rc=0
    /usr/bin/time -f '%e %M %U %S' -o "$tmp/time" "$spinepipe" run "$phantom/dicom" \
        -o "$tmp/out" --config "$2" >"$tmp/stdout" 2>"$tmp/stderr" || rc=$?
    if [ $rc -ne 0 ]; then
        echo "bench/ct-pipeline.sh: $1 failed (exit $rc):" >&2
        cat "$tmp/stderr" >&2
        exit 70
    fi
    tail -n 1 "$tmp/time" | awk '{print $1, $2, $3 + $4}' >>"$tmp/$1"
}

names="baseline analysis shipped"
config_of() {
    case $1 in
    baseline) echo bench/window-only.ini ;;
    analysis) echo bench/ct-analysis.ini ;;
    shipped) echo config/ct-lumbar.ini ;;
    esac
}
for n in $names; do measure warmup "$(config_of "$n")"; done
for i in $(seq "$runs"); do
    for n in $names; do measure "$n" "$(config_of "$n")"; done
done

volume_kb=$((512 * 512 * 400 * 4 / 1024))
bw=$(cut -d' ' -f1 "$tmp/baseline" | median)
bm=$(cut -d' ' -f2 "$tmp/baseline" | median)
bc=$(cut -d' ' -f3 "$tmp/baseline" | median)
printf '%-9s %9s %8s %10s %10s %9s %10s %12s\n' pipeline "wall (s)" \
    "cpu (s)" "peak (MB)" "wall/base" "cpu/base" "peak/base" "peak/volume"
for n in $names; do
    w=$(cut -d' ' -f1 "$tmp/$n" | median)
    m=$(cut -d' ' -f2 "$tmp/$n" | median)
    c=$(cut -d' ' -f3 "$tmp/$n" | median)
    awk -v n="$n" -v w="$w" -v m="$m" -v c="$c" -v bw="$bw" -v bm="$bm" \
        -v bc="$bc" -v vol="$volume_kb" 'BEGIN {
        printf "%-9s %9.2f %8.2f %10.0f %10.2f %9.2f %10.2f %12.2f\n", n, w,
            c, m / 1024, w / bw, c / bc, m / bm, m / vol }'
done
echo "load average during the run: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "median of $runs runs; float32 volume $((volume_kb / 1024)) MB;" \
    "targets: analysis wall < 5 s, peak/volume < 3"

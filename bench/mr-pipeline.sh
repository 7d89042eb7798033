#!/bin/sh
# MR pipeline benchmark: the shipped MR analysis pipelines
# (config/mr-lumbar-t2.ini; config/mr-cervical-t2.ini for folders named
# *cervical*) against a read+window-only run (bench/mr-window.ini) of the
# same series, in the same invocation. Prints per series the median wall
# and CPU (user + sys) time of each, their ratios, and the analysis
# stages' own wall time from run.json.
#
#   bench/mr-pipeline.sh [-n RUNS] [-b BUILD_DIR] [DICOM_FOLDER ...]
#
# Default folders: sample_dicom/mr-t2-sagittal, the four MR series of
# ../shared/data/spine, and a 512x512x30 sagittal T2 phantom made here
# with `spinepipe phantom` (the size of the target). Target (issue 6): the
# MR pipeline under 2 s per series of up to 30 slices of 512x512.
# Run it under `nice` on a shared machine; wall times include process
# start-up and the PNG/NIfTI outputs of the pipeline.
set -eu
cd "$(dirname "$0")/.."
bench_name=bench/mr-pipeline.sh
bench_usage='[-n RUNS] [-b BUILD_DIR] [FOLDER ...]'
runs=5
. bench/lib.sh
bench_parse '' "$@"
shift $((OPTIND - 1))
bench_need "$spinepipe"
bench_need_cmd /usr/bin/time "apt-get install time"
bench_tmp

if [ $# -eq 0 ]; then
    data=../shared/data/spine
    "$spinepipe" phantom --modality MR --matrix 512 --pixel 0.5 --slices 30 \
        --slice-thickness 3 --canal-ap L4-L5=8 --output "$tmp/phantom512" \
        >/dev/null
    set -- sample_dicom/mr-t2-sagittal "$data/mr-lumbar-t2-sag/dicom" \
        "$data/mr-cervical-t2-sag/dicom" "$data/mr-cervical-t2-axial/dicom" \
        "$data/mr-cervical-c5-c7-sag-crop/dicom" "$tmp/phantom512/dicom"
fi

# run CONFIG FOLDER: one timed run, "wall_seconds cpu_seconds" on stdout
# (cpu = user + sys: on a shared machine wall time depends on the others)
run() {
    rm -rf "$tmp/out"
    t0=$(now)
    rc=0
    /usr/bin/time -f "%U %S" -o "$tmp/cpu" \
        "$spinepipe" run "$2" -o "$tmp/out" --config "$1" >/dev/null 2>"$tmp/err" || rc=$?
    t1=$(now)
    if [ $rc -ne 0 ]; then
        echo "bench/mr-pipeline.sh: $1 on $2 failed ($rc):" >&2
        cat "$tmp/err" >&2
        exit 70
    fi
    echo "$t0 $t1 $(cat "$tmp/cpu")" | awk '{printf "%.4f %.4f\n", $2 - $1, $3 + $4}'
}

# seconds of the analysis stages in the last run's run.json
stages() {
    python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print("%.3f" % sum(s["seconds"] for s in r["stages"]
                   if s["name"] in ("bias", "mr_segment", "mr_measure", "findings")))
' "$(find "$tmp/out" -name run.json | head -1)"
}

printf '%-28s %9s %6s %8s %8s %6s %8s %8s %6s %8s\n' series matrix slices \
    "mr wall" "win wall" ratio "mr cpu" "win cpu" ratio "stages"
for f in "$@"; do
    case $f in
    *cervical*) cfg=config/mr-cervical-t2.ini ;;
    *) cfg=config/mr-lumbar-t2.ini ;;
    esac
    run "$cfg" "$f" >/dev/null          # warm-up: page cache
    : >"$tmp/mr"; : >"$tmp/win"; : >"$tmp/st"
    i=0
    while [ $i -lt "$runs" ]; do
        run "$cfg" "$f" >>"$tmp/mr"
        stages >>"$tmp/st"
        run bench/mr-window.ini "$f" >>"$tmp/win"
        i=$((i + 1))
    done
    geom=$("$spinepipe" info --json "$f" | python3 -c '
import json, sys
s = json.load(sys.stdin)["series"][0]
print("%dx%d %d" % (s["columns"], s["rows"], s["slices"]))')
    mr=$(cut -d' ' -f1 "$tmp/mr" | median); win=$(cut -d' ' -f1 "$tmp/win" | median)
    mrc=$(cut -d' ' -f2 "$tmp/mr" | median); winc=$(cut -d' ' -f2 "$tmp/win" | median)
    st=$(median <"$tmp/st")
    name=$(echo "$f" | sed 's|/dicom$||; s|.*/||')
    echo "$name $geom $mr $win $mrc $winc $st" | awk '{printf "%-28s %9s %6s %8.3f %8.3f %6.2f %8.3f %8.3f %6.2f %8.3f\n", substr($1, 1, 28), $2, $3, $4, $5, $4 / $5, $6, $7, $6 / $7, $8}'
done
echo "medians of $runs runs; s = seconds; ratio = MR pipeline / read+window;"
echo "stages = bias + mr_segment + mr_measure + findings wall time from run.json"

#!/bin/sh
# Speed benchmark of issue 4: spinepipe against the tools people use today,
# and against the machine's physical floor, in one session. Prints a table
# of medians and whether each target is met.
#
#   bench/compare.sh [-n RUNS] [-w WARMUP] [-b BUILD_DIR] [-g GROUPS]
#                    [DICOM_FOLDER ...]
#
# Default folders: ../shared/data/conformance/ct-head-phantom-512/dicom
# (140 slices of 512x512) and /tmp/p512/dicom, a 512x512x400 CT phantom made
# by `spinepipe phantom` when missing. For each folder, RUNS rounds (default
# 3, after WARMUP rounds, default 1, that fill the page cache and are not
# counted) run, tools interleaved:
#   ours-png       spinepipe run --config bench/window-png.ini
#                  (read + soft window 40/400 + every axial slice as PNG)
#   dcmj2pnm-loop  DCMTK dcmj2pnm +Ww 40 400 --write-png, one file at a time
#   dcmj2pnm-P2    the same, two processes at a time (xargs -P2)
#   ours-median    bench/window-denoise-png.ini (3x3 median first)
#   im-median      ImageMagick mogrify -statistic Median 3x3 over the
#                  windowed PNGs of ours-png (one process, all slices)
#   ours-gauss     bench/window-gauss-png.ini, sigma = one pixel spacing
#   im-gauss       mogrify -blur 3x1 (separable, radius 3, sigma 1 pixel)
#   im-copy        mogrify with no filter: ImageMagick's read + write alone
#   ours-rwd       bench/window-denoise.ini: read + median + window, no files
#   floor          bench/floor_bench: page-cache read of the files plus one
#                  memcpy of the float32 volume (its own timers)
# and, when ITK is available (bench/itk; bench-only, see bench/README.md):
#   ours-mmed      bench/median.ini: read + 3x3 in-plane median, no files
#   itk-median     bench/itk: GDCM read + itk::MedianImageFilter (1, 1, 0)
#   ours-diff      bench/diffusion.ini: read + 5 steps of 3D diffusion
#   itk-gradient   GradientAnisotropicDiffusionImageFilter, 5 iterations
#   itk-curvature  CurvatureAnisotropicDiffusionImageFilter, 5 iterations
# with the filter's own time beside (ours: the denoise stage's seconds in
# run.json; ITK: around Update()).
# -g picks row groups (comma list of png, median, gauss, floor, itk;
# default all but a group whose tools are missing; itkmedian: only the
# median rows of itk, for large series where ITK's diffusion takes long).
# Wall time is measured around each process (start-up included); cpu_s is
# user + system time; peak memory is the maximum resident set size
# (/usr/bin/time %M; for the loops, the largest single process).
# SPINEPIPE_THREADS is left unset: ours uses both cores, as mogrify does
# (OpenMP) and as dcmj2pnm-P2 does.
set -eu
cd "$(dirname "$0")/.."
bench_name=bench/compare.sh
bench_usage='[-n RUNS] [-w WARMUP] [-b BUILD_DIR] [-g GROUPS] [FOLDER ...]'
runs=3
warmup=1
groups=png,median,gauss,floor,itk
. bench/lib.sh
bench_opt() {
    case $1 in
    w) warmup=$2 ;;
    g) groups=$2 ;;
    *) return 1 ;;
    esac
}
bench_parse 'w:g:' "$@"
shift $((OPTIND - 1))
want() { case ",$groups," in *,"$1",*) return 0 ;; esac; return 1; }

floor=$build/bench/floor_bench
bench_need "$spinepipe" "$floor"
# The ImageMagick 6 binaries by their Debian names, so that no wrapper
# earlier on PATH is timed instead.
mogrify=$(command -v mogrify-im6.q16 || command -v mogrify || true)
for t in dcmj2pnm dcmdump "$mogrify" /usr/bin/time; do
    command -v "$t" >/dev/null 2>&1 || {
        echo "bench/compare.sh: $t not found (sudo scripts/install-deps)" >&2; exit 69; }
done

# ITK (bench-only): build bench/itk when ITK and cmake are installed.
itk_bench=build-itk/itk_bench
if { want itk || want itkmedian; } && [ ! -x "$itk_bench" ]; then
    if command -v cmake >/dev/null 2>&1 && [ -d /usr/lib/cmake/ITK-5.2 ]; then
        echo "bench/compare.sh: building bench/itk in build-itk" >&2
        cmake -S bench/itk -B build-itk -DCMAKE_BUILD_TYPE=Release >/dev/null &&
            cmake --build build-itk >/dev/null || true
    fi
fi
if { want itk || want itkmedian; } && [ ! -x "$itk_bench" ]; then
    echo "bench/compare.sh: ITK rows skipped: ITK is not installed. It is a bench-only" >&2
    echo "  dependency: sudo apt-get install libinsighttoolkit5-dev cmake" >&2
    groups=$(echo ",$groups," | sed 's/,itk,/,/; s/,itkmedian,/,/; s/^,//; s/,$//')
fi

if [ $# -eq 0 ]; then
    if [ ! -d /tmp/p512/dicom ]; then
        echo "bench/compare.sh: making the 512x512x400 phantom in /tmp/p512" >&2
        "$spinepipe" phantom --output /tmp/p512 --matrix 512 --slices 400 \
            --pixel 0.5 --slice-thickness 0.8 >/dev/null
    fi
    set -- ../shared/data/conformance/ct-head-phantom-512/dicom /tmp/p512/dicom
fi

bench_tmp

# The denoise stage's own seconds from the last run's run.json, and the
# filter seconds itk_bench printed (as "s s 0" rows for median()).
stage_seconds() {
    find "$tmp/out/r" -name run.json -exec cat {} + | tr -d ' \n' |
        sed -n 's/.*"name":"denoise","version":"[^"]*","status":"ok","seconds":\([0-9.eE+-]*\).*/\1 \1 0/p'
    echo
}
filter_seconds() { sed -n 's/.*filter_s=\([0-9.]*\).*/\1 \1 0/p' "$tmp/stdout"; }

# measure NAME CMD...: run CMD with a fresh $tmp/out, append
# "wall_s cpu_s peak_kb" to $tmp/NAME.
measure() {
    name=$1; shift
    rm -rf "$tmp/out"; mkdir "$tmp/out"
    t0=$(now)
    # 3 is spinepipe's partial success (e.g. a DICOMDIR was skipped).
    rc=0
    /usr/bin/time -f '%M %U %S' -o "$tmp/rss" "$@" >"$tmp/stdout" 2>"$tmp/stderr" || rc=$?
    if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then
        echo "bench/compare.sh: failed ($rc): $*" >&2; cat "$tmp/stderr" >&2; exit 70
    fi
    t1=$(now)
    tail -n 1 "$tmp/rss" | awk -v a="$t0" -v b="$t1" \
        '{ printf "%.4f %.4f %d\n", b - a, $2 + $3, $1 }' >>"$tmp/$name"
}

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); runs=$runs; $(nproc) CPUs"
printf '%-14s %-14s %6s %8s %7s %9s %8s %7s %9s %7s\n' data tool slices \
    median_s cpu_s slices/s peak_MiB peak/f32 vs ratio
targets=$tmp/targets
: >"$targets"
for dir in "$@"; do
    label=$(echo "$dir" | awk -F/ '{n=NF; if ($n == "dicom" || $n == "") n--; print $n}')
    # Image files only (a DICOMDIR is not an image), in a stable order.
    # (ITK's GDCM reader takes the folder and its first series.)
    for f in "$dir"/*; do
        [ -f "$f" ] || continue
        dcmdump -q +P 0002,0002 "$f" 2>/dev/null | grep -q 'ImageStorage' &&
            printf '%s\n' "$f"
    done | sort >"$tmp/files"
    # One file per line: split on newlines only, no globbing.
    set -f
    old_ifs=$IFS
    IFS='
'
    # shellcheck disable=SC2046
    set -- $(cat "$tmp/files")
    IFS=$old_ifs
    set +f
    slices=$#
    # Voxels and in-plane spacing from our own reader.
    info=$("$spinepipe" info --json "$dir" 2>/dev/null | tr -d ' \n')
    cols=$(echo "$info" | sed -n 's/.*"columns":\([0-9]*\).*/\1/p')
    rows=$(echo "$info" | sed -n 's/.*"rows":\([0-9]*\).*/\1/p')
    pix=$(echo "$info" | sed -n 's/.*"pixel_spacing_mm":\[\([0-9.eE+-]*\),.*/\1/p')
    voxels=$((cols * rows * slices))
    f32_kb=$((voxels * 4 / 1024))
    # ImageMagick filters the windowed slices ours-png writes.
    mkdir -p "$tmp/im_in"
    if want median || want gauss; then
        "$spinepipe" run "$dir" -o "$tmp/pngs" --config bench/window-png.ini >/dev/null 2>&1 || true
        find "$tmp/pngs" -name 'axial_*.png' -exec cp {} "$tmp/im_in/" \;
        rm -rf "$tmp/pngs"
    fi
    rm -f "$tmp"/ours-* "$tmp"/dcmj2pnm-* "$tmp"/im-* "$tmp"/itk-* "$tmp/floor"*
    round() {
      if want png; then
        measure ours-png "$spinepipe" run "$dir" -o "$tmp/out/r" --config bench/window-png.ini
        # The same window for everyone: soft tissue 40/400 HU.
        measure dcmj2pnm-loop sh -c 'out=$1; shift; for f; do
            dcmj2pnm +Ww 40 400 --write-png "$f" "$out/${f##*/}.png"; done' \
            sh "$tmp/out" "$@"
        measure dcmj2pnm-P2 sh -c 'out=$1; shift; printf "%s\n" "$@" |
            xargs -P2 -I{} sh -c "dcmj2pnm +Ww 40 400 --write-png \"\$1\" \"\$2/\${1##*/}.png\"" sh {} "$out"' \
            sh "$tmp/out" "$@"
      fi
      if want median; then
        measure ours-median "$spinepipe" run "$dir" -o "$tmp/out/r" --config bench/window-denoise-png.ini
        measure im-median "$mogrify" -path "$tmp/out" -statistic Median 3x3 "$tmp"/im_in/*.png
      fi
      if want gauss; then
        measure ours-gauss "$spinepipe" run "$dir" -o "$tmp/out/r" --config bench/window-gauss-png.ini \
            --set "denoise.sigma=$pix"
        measure im-gauss "$mogrify" -path "$tmp/out" -blur 3x1 "$tmp"/im_in/*.png
        measure im-copy "$mogrify" -path "$tmp/out" "$tmp"/im_in/*.png
      fi
      if want floor; then
        measure ours-rwd "$spinepipe" run "$dir" -o "$tmp/out/r" --config bench/window-denoise.ini
        "$floor" "$voxels" "$@" >"$tmp/floor_line"
        sed -n 's/.*read_s=\([0-9.]*\).*memcpy_s=\([0-9.]*\).*/\1 \2/p' \
            "$tmp/floor_line" | awk '{ printf "%.5f %.5f 0\n", $1 + $2, $1 + $2 }' >>"$tmp/floor"
      fi
      if want itk || want itkmedian; then
        measure ours-mmed "$spinepipe" run "$dir" -o "$tmp/out/r" --config bench/median.ini
        stage_seconds >>"$tmp/ours-mmed-f"
        measure itk-median "$itk_bench" median "$dir"
        filter_seconds >>"$tmp/itk-median-f"
      fi
      if want itk; then
        measure ours-diff "$spinepipe" run "$dir" -o "$tmp/out/r" --config bench/diffusion.ini
        stage_seconds >>"$tmp/ours-diff-f"
        measure itk-gradient "$itk_bench" gradient "$dir" 5 3
        filter_seconds >>"$tmp/itk-gradient-f"
        measure itk-curvature "$itk_bench" curvature "$dir" 5 3
        filter_seconds >>"$tmp/itk-curvature-f"
      fi
    }
    i=0
    while [ "$i" -lt "$warmup" ]; do round "$@"; i=$((i + 1)); done
    rm -f "$tmp"/ours-* "$tmp"/dcmj2pnm-* "$tmp"/im-* "$tmp"/itk-* "$tmp/floor"
    i=0
    while [ "$i" -lt "$runs" ]; do round "$@"; i=$((i + 1)); done
    rm -rf "$tmp/im_in"
    # row TOOL REFERENCE: ratio = reference median time / tool median time
    row() {
        s=$(median "$tmp/$1" 1); c=$(median "$tmp/$1" 2); kb=$(median "$tmp/$1" 3)
        rs=$(median "$tmp/$2" 1)
        awk -v d="$label" -v t="$1" -v n="$slices" -v s="$s" -v c="$c" -v kb="$kb" \
            -v f="$f32_kb" -v ref="$2" -v rs="$rs" 'BEGIN {
            printf "%-14s %-14s %6d %8.3f %7.3f %9.1f %8.1f %7.2f %9s %7.2f\n",
                d, t, n, s, c, n / s, kb / 1024, kb / f, ref, rs / s }'
    }
    if want png; then
        row ours-png dcmj2pnm-loop
        row ours-png dcmj2pnm-P2
        row dcmj2pnm-loop dcmj2pnm-loop
        row dcmj2pnm-P2 dcmj2pnm-loop
    fi
    if want median; then
        row ours-median im-median
        row im-median im-median
    fi
    if want gauss; then
        row ours-gauss im-gauss
        row im-gauss im-gauss
        row im-copy im-copy
    fi
    if want floor; then
        row ours-rwd floor
        row floor floor
    fi
    if want itk || want itkmedian; then
        row ours-mmed itk-median
        row itk-median itk-median
        row ours-mmed-f itk-median-f
        row itk-median-f itk-median-f
    fi
    if want itk; then
        row ours-diff itk-gradient
        row ours-diff itk-curvature
        row itk-gradient itk-gradient
        row itk-curvature itk-curvature
        row ours-diff-f itk-gradient-f
        row ours-diff-f itk-curvature-f
        row itk-gradient-f itk-gradient-f
        row itk-curvature-f itk-curvature-f
    fi
    # target LABEL TOOL REF OP LIMIT: speed ratio (ref/tool) or time ratio
    ratio() { awk -v a="$(median "$tmp/$1" 1)" -v b="$(median "$tmp/$2" 1)" 'BEGIN { printf "%.2f", a / b }'; }
    check() { awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
        ok = op == ">=" ? v >= l : v <= l; print ok ? "met" : "MISSED" }'; }
    if want png; then
        r=$(ratio dcmj2pnm-loop ours-png)
        echo "$label read+window+PNG vs dcmj2pnm loop: ${r}x faster (target >= 10): $(check "$r" '>=' 10)" >>"$targets"
    fi
    if want median; then
        r=$(ratio im-median ours-median)
        echo "$label 3x3 median vs ImageMagick: ${r}x faster (target >= 3): $(check "$r" '>=' 3)" >>"$targets"
    fi
    if want gauss; then
        r=$(ratio im-gauss ours-gauss)
        echo "$label Gaussian vs ImageMagick: ${r}x faster (target >= 3): $(check "$r" '>=' 3)" >>"$targets"
    fi
    if want floor; then
        r=$(ratio ours-rwd floor)
        c=$(awk -v a="$(median "$tmp/ours-rwd" 2)" -v b="$(median "$tmp/floor" 2)" 'BEGIN { printf "%.2f", a / b }')
        echo "$label read+window+denoise / floor: ${r}x wall, ${c}x CPU (target <= 4): $(check "$r" '<=' 4)" >>"$targets"
    fi
    for t in ours-png ours-median ours-gauss ours-rwd; do
        [ -s "$tmp/$t" ] || continue
        p=$(awk -v kb="$(median "$tmp/$t" 3)" -v f="$f32_kb" 'BEGIN { printf "%.2f", kb / f }')
        echo "$label $t peak memory ${p}x the float32 volume (target <= 2.5): $(check "$p" '<=' 2.5)" >>"$targets"
    done
done
echo
cat "$targets"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "ratio = reference ('vs') median time / tool median time (> 1: tool faster);"
echo "rows ending in -f: the filter alone (ours: denoise stage in run.json; ITK: Update()), no start-up or read;"
echo "peak/f32 = peak RSS / float32 volume of the series. Medians of $runs runs after $warmup warm-up round(s)."

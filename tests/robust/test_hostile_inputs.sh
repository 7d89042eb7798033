#!/bin/sh
# Hostile and broken inputs through `spinepipe info` and `spinepipe run`,
# each with a message naming the file and what is wrong, while the rest of
# the batch goes on: zero/negative/NaN/inf spacing, NaN positions,
# non-orthogonal orientation, pixel data longer than declared, the memory
# budget (SPINEPIPE_MAX_MEMORY), hostile tag strings in PatientID and
# SeriesDescription (../, /, NUL, %n, 2000+ bytes, non-UTF-8) that must not
# reach paths or break report.json,
# 10^5 junk files in one folder, a symlink loop, an unreadable file, a full
# disk and a read-only output folder (no partial output that looks
# complete: run.json, the completion marker, must be absent). TAP.
set -u
exe=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(dirname "$0")
json="python3 $here/json_check.py"
src=$SPINEPIPE_DATA/spine/ct-lumbar-l2-l4-crop/dicom
tmp=$(mktemp -d)
mounts=""
cleanup() {
    for m in $mounts; do umount "$m" 2>/dev/null; done
    chmod -R u+rwX "$tmp" 2>/dev/null
    [ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

. "$here/../common/tap.sh"
eq() { [ "$1" = "$2" ]; }
contains() { grep -q -- "$2" "$1"; }
# copy_series DEST: the real 47-slice CT series with a new series UID.
copy_series() {
    mkdir -p "$1"
    cp "$src"/*.dcm "$1"/
    uid="2.25.$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')"
    dcmodify -nb -q -m "(0020,000e)=$uid" "$1"/*.dcm
    echo "$uid"
}
# one_file NAME TAG=VALUE...: a single slice of the series, modified, in
# the "mixed" folder, as its own series.
mixed=$tmp/mixed
one_file() {
    name=$1
    shift
    f=$mixed/$name.dcm
    cp "$(ls "$src"/*.dcm | head -1)" "$f"
    dcmodify -nb -q -m "(0020,000e)=2.25.$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')" "$f"
    for m in "$@"; do dcmodify -nb -q -i "$m" "$f"; done
}

echo "1..42"

# --- numbers and geometry: each file skipped with a reason, the good
# series (47 slices) intact ---
# The bad geometry cases, one a line: file name, the tag it changes, a word
# the skip reason must hold, what is wrong.
cat >"$tmp/geometry_cases" <<'EOF'
zero-spacing|(0028,0030)=0\0|PixelSpacing|zero PixelSpacing
negative-spacing|(0028,0030)=-1.5\-1.5|PixelSpacing|negative PixelSpacing
nan-spacing|(0028,0030)=nan\1.5|PixelSpacing|NaN in PixelSpacing
inf-spacing|(0028,0030)=inf\inf|PixelSpacing|inf in PixelSpacing
nan-position|(0020,0032)=nan\0\0|ImagePositionPatient|NaN in ImagePositionPatient
inf-position|(0020,0032)=1\-inf\0|ImagePositionPatient|-inf in ImagePositionPatient
non-orthogonal|(0020,0037)=1\0\0\0.7071\0.7071\0|orthogonal|non-orthogonal ImageOrientationPatient
not-unit|(0020,0037)=2\0\0\0\2\0|ImageOrientationPatient|orientation vectors of length 2
nan-orientation|(0020,0037)=nan\0\0\0\1\0|ImageOrientationPatient|NaN in ImageOrientationPatient
EOF
# for_each_geometry_case FN: FN NAME TAG REASON WHAT for each line (not in
# a pipe: check must count in this shell).
for_each_geometry_case() {
    while IFS='|' read -r name tag reason what; do
        "$1" "$name" "$tag" "$reason" "$what" </dev/null
    done <"$tmp/geometry_cases"
}
make_geometry_case() { one_file "$1" "$2"; }
check_geometry_case() {
    check "$4: skipped, named, reason given" \
        $json skipped "$tmp/mixed.json" "$1.dcm" "$3"
}
good_uid=$(copy_series "$mixed/good")
for_each_geometry_case make_geometry_case
"$exe" info --json "$mixed" >"$tmp/mixed.json" 2>"$tmp/mixed.err"
check "info on the mixed folder exits 3 (partial: files skipped)" eq $? 3
check "the good series keeps its 47 slices" \
    eq "$($json slices "$tmp/mixed.json" "$good_uid")" 47
for_each_geometry_case check_geometry_case

# --- pixel data length and the memory budget, in one batch run ---
batch=$tmp/batch
good2=$(copy_series "$batch/good")
long_uid=$(copy_series "$batch/long")
dcmodify -nb -q -i '(0028,0010)=36' -i '(0008,103e)=long pixel data' \
    "$batch"/long/*.dcm
small_uid=$(copy_series "$batch/small")
rm "$batch"/small/image001*.dcm "$batch"/small/image002*.dcm \
    "$batch"/small/image003*.dcm "$batch"/small/image004*.dcm
dcmodify -nb -q -i '(0008,103e)=small' "$batch"/small/*.dcm
# run_json_for DESCRIPTION_PART: the run.json of the series whose output
# folder name contains it.
run_json_for() { ls "$tmp"/out1/*/*"$1"*/run.json 2>/dev/null | head -1; }
status_of() { sed -n 's/^  "status": "\(.*\)",$/\1/p' "$1"; }
# Budget 800 KiB: the 47-slice volumes (73x73x47 float, 1.0 MB) exceed it,
# the 10-slice one (213 KB) fits.
SPINEPIPE_MAX_MEMORY=800K "$exe" run "$batch" -o "$tmp/out1" \
    >"$tmp/run1.log" 2>&1
check "run with a broken and an over-budget series exits 3 (partial)" \
    eq $? 3
check "pixel data longer than declared: error names the file and the problem" \
    contains "$(run_json_for long_pixel_data)" \
    "$batch/long/image.*pixel data is longer than declared"
check "over the memory budget: error names the file and the budget" \
    contains "$(run_json_for TPTBox)" \
    "$batch/good/image.*needs more than the memory budget of 819200 bytes"
check "the batch went on: the 10-slice series is ok" \
    eq "$(status_of "$(run_json_for small)")" ok
check "failed series are marked failed in run.json, not complete" \
    eq "$(status_of "$(run_json_for long_pixel_data)")" failed

# --- hostile tag strings: never a path, never a format, valid JSON ---
hostile=$tmp/hostile
copy_series "$hostile/s" >/dev/null
# Even lengths: DCMTK stores values of even length.
printf '../../../../evil/%%n%%s%%x<b>\000nul\377\376/../xy' >"$tmp/desc.bin"
printf '../%%n%%n/id\000\377' >"$tmp/pid.bin"
python3 -c "print('A' * 4000 + '%n' * 48, end='')" >"$tmp/long.bin"
dcmodify -nb -if "(0008,103e)=$tmp/desc.bin" \
    -if "(0010,0020)=$tmp/pid.bin" -if "(0010,0010)=$tmp/long.bin" \
    "$hostile"/s/*.dcm
# A second series: a very long description (2180 bytes of ../ and %n) and
# patient ID (2002 bytes of /, %s%n and non-UTF-8).
copy_series "$hostile/s2" >/dev/null
python3 -c "import sys; sys.stdout.buffer.write(b'../' * 700 + b'%n' * 40)" \
    >"$tmp/longdesc.bin"
python3 -c "import sys; sys.stdout.buffer.write(b'/' * 1000 + b'%s%n' * 250 + b'\xfe\xff')" \
    >"$tmp/longpid.bin"
dcmodify -nb -if "(0008,103e)=$tmp/longdesc.bin" \
    -if "(0010,0020)=$tmp/longpid.bin" "$hostile"/s2/*.dcm
(cd "$tmp" && "$exe" run "$hostile" -o "$tmp/out2" >"$tmp/run2.log" 2>&1)
check "run on hostile strings exits 0" eq $? 0
check "nothing was written outside the output folder (no evil/)" \
    eq "$(find "$tmp" -name evil | wc -l)" 0
check "every output path stays inside out2 (no .. component)" \
    eq "$(find "$tmp/out2" | grep -c '/\.\./\|/\.\.$')" 0
check "output names are plain ASCII (no %, NUL, bytes >127)" \
    eq "$(find "$tmp/out2" | LC_ALL=C grep -c '[^-A-Za-z0-9_./#]')" 0
rj=$(grep -L '%s%n%s%n' "$tmp"/out2/*/*/report.json | head -1)
check "report.json exists and is strict UTF-8 JSON" $json strict "$rj"
check "run.json is strict UTF-8 JSON" \
    $json strict "$(ls "$tmp"/out2/*/*/run.json | head -1)"
check "the patient ID reached report.json literally (%n not formatted)" \
    contains "$rj" '"../%n%n/id'
check "the series with a 2180-byte description and 2002-byte patient ID ran too (2 report.json)" \
    eq "$(ls "$tmp"/out2/*/*/report.json | wc -l)" 2
check "... and its report.json is strict UTF-8 JSON" \
    sh -c "for f in $tmp/out2/*/*/report.json; do $json strict \$f || exit 1; done"
check "index.html escapes the description (no raw <b>)" \
    eq "$(grep -c '<b>' "$tmp/out2/index.html")" 0
check "index.html links stay inside out2 (no .. in href/src)" \
    eq "$(grep -o '\(href\|src\)="[^"]*"' "$tmp/out2/index.html" | grep -c '\.\.')" 0

# --- 10^5 junk files in one folder beside a real series ---
many=$tmp/many
good3=$(copy_series "$many/good")
mkdir -p "$many/junk"
python3 - "$many/junk" <<'PY'
import os, sys
d = sys.argv[1]
for i in range(100000):
    with open(os.path.join(d, "f%06d" % i), "wb") as f:
        # empty, text, a DICM preamble cut short, random bytes
        f.write([b"", b"junk", b"\0" * 128 + b"DICM", os.urandom(64)][i % 4])
PY
start=$(date +%s)
"$exe" info --json "$many" >"$tmp/many.json" 2>/dev/null
rc=$?
secs=$(($(date +%s) - start))
check "info over 100000 junk files + 47 slices exits 3 in ${secs} s" eq $rc 3
check "... every junk file is listed as skipped (100000)" \
    eq "$($json nskipped "$tmp/many.json")" 100000
check "... and the real series is found whole (47 slices)" \
    eq "$($json slices "$tmp/many.json" "$good3")" 47
rm -rf "$many/junk"

# --- a symlink loop and an unreadable file ---
loop=$tmp/loop
good4=$(copy_series "$loop/good")
ln -s .. "$loop/good/up"
ln -s "$loop" "$loop/good/self"
"$exe" info --json --follow-symlinks "$loop" >"$tmp/loop.json" 2>"$tmp/loop.err"
rc=$?
check "symlink loops with --follow-symlinks: info ends, exit 3 (got $rc)" \
    eq $rc 3
check "... each loop link skipped and named as a loop" \
    $json skipped "$tmp/loop.json" good/self "symbolic link loop"
check "... and the series is counted once (47 slices, 1 series)" \
    eq "$($json slices "$tmp/loop.json" "$good4")/$($json nseries "$tmp/loop.json")" 47/1

unread=$tmp/unread
copy_series "$unread/s" >/dev/null
victim=$(ls "$unread"/s/*.dcm | head -1)
chmod 000 "$victim"
# Root reads files whatever their mode: run as nobody instead.
as_user=""
if [ "$(id -u)" -eq 0 ]; then
    chmod 755 "$tmp" "$unread" "$unread/s"
    as_user="setpriv --reuid=65534 --regid=65534 --clear-groups"
fi
$as_user "$exe" info --json "$unread" >"$tmp/unread.json" 2>"$tmp/unread.err"
check "an unreadable file: info exits 3 (partial)" eq $? 3
check "... names the file and says it cannot be read" \
    $json skipped "$tmp/unread.json" "$(basename "$victim")" "permission denied"
check "... and loads the other 46 slices" \
    eq "$($json nseries "$tmp/unread.json")" 1

# --- a full disk and a read-only output folder ---
# No run.json, or one whose top-level status is not "ok".
no_complete_run() {
    for f in "$@"; do
        [ -f "$f" ] && [ "$(status_of "$f")" = ok ] && return 1
    done
    return 0
}
if [ "$(id -u)" -eq 0 ] && mkdir "$tmp/small" &&
    mount -t tmpfs -o size=160k tmpfs "$tmp/small" 2>/dev/null; then
    mounts="$tmp/small"
    "$exe" run "$batch/small" -o "$tmp/small/out" >"$tmp/full.log" 2>&1
    rc=$?
    check "disk full (160 KiB tmpfs): run fails with exit 73 or 74 (got $rc)" \
        sh -c "[ $rc -eq 73 ] || [ $rc -eq 74 ]"
    check "... the message says the device is full" \
        contains "$tmp/full.log" "No space left on device"
    check "... and no run.json claims the series is complete" \
        no_complete_run "$tmp"/small/out/*/*/run.json
    umount "$tmp/small"
    mounts=""
    mkdir -p "$tmp/ro"
    mount -t tmpfs -o ro,size=1m tmpfs "$tmp/ro"
    mounts="$tmp/ro"
    "$exe" run "$batch/small" -o "$tmp/ro/out" >"$tmp/ro.log" 2>&1
    rc=$?
    check "read-only output folder: run fails with exit 73 (got $rc)" eq $rc 73
    check "... the message names the folder and says read-only" \
        contains "$tmp/ro.log" "$tmp/ro/out.*Read-only file system"
    check "... and nothing was written" eq "$(find "$tmp/ro" | wc -l)" 1
    umount "$tmp/ro"
    mounts=""
else
    for d in "disk full: run fails" "disk full: message" \
        "disk full: no complete run.json" "read-only output: run fails" \
        "read-only output: message" "read-only output: nothing written"; do
        skip "$d" "needs root to mount a small tmpfs"
    done
fi

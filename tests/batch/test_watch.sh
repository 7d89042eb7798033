#!/bin/sh
# `spinepipe watch DIR` with real folder drops of the shared spine series:
# a folder renamed in whole, one copied file by file (not run before it is
# quiet, then run with every slice), a done-marker, a file arriving after
# processing, a symlinked folder (skipped), SIGTERM, SIGKILL mid-run and restarts (state on disk, each
# study run to completion exactly once). TAP.
set -u
exe=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
data=$SPINEPIPE_DATA/spine
. "$(dirname "$0")/batch_lib.sh"

drop=$tmp/drop
out=$tmp/out
mkdir -p "$drop"
start() {
    "$exe" watch "$drop" -o "$out" "$@" >>"$tmp/watch.log" 2>&1 &
    lpid=$!
    up() { grep -q "spinepipe watch: watching" "$tmp/watch.log"; }
    wait_for 20 up
}
stop() {
    kill -"${1:-TERM}" "$lpid"
    wait "$lpid"
    rc=$?
    lpid=""
    : >"$tmp/watch.log"
    return $rc
}
has_outcome() { ls "$out"/outcomes/"$1"-*.json >/dev/null 2>&1; }
# slices_of STUDY: the slice count run.json gives for the study's series.
slices_of() {
    python3 -c 'import glob, json, sys
print(" ".join(str(json.load(open(p))["series"]["matrix"][2])
      for p in glob.glob(sys.argv[1] + "/studies/" + sys.argv[2] + "-*/*/*/run.json")))' "$out" "$1"
}

echo "1..23"
"$exe" watch --help >/dev/null
check "--help exits 0" eq $? 0
"$exe" watch "$tmp/no-such-dir" -o "$out" 2>/dev/null
check "a missing folder exits 66" eq $? 66
"$exe" watch "$drop" -o "$out" --done-marker ../x 2>/dev/null
check "a done-marker with a slash exits 64" eq $? 64

check "the watcher starts" start --quiet 3
# A whole folder renamed into place.
cp -r "$data/ct-lumbar-l2-l4-crop/dicom" "$drop/.copying-a"
mv "$drop/.copying-a" "$drop/study-a"
check "a folder renamed into DIR is processed" wait_for 60 has_outcome study-a
check "with all 47 slices" eq "$(slices_of study-a)" 47
# A folder filled file by file, one every 0.5 s (quiet period 3 s).
mkdir "$drop/study-b"
src=$data/mr-cervical-t2-axial/dicom
nf=0
early=0
for f in "$src"/*.dcm; do
    cp "$f" "$drop/study-b/"
    nf=$((nf + 1))
    [ "$(starts_of "$out" study-b)" -ge 1 ] && early=1
    sleep 0.5
done
check "not started while files keep arriving ($nf files over $((nf / 2)) s)" eq $early 0
check "processed once quiet" wait_for 60 has_outcome study-b
check "with all $nf slices" eq "$(slices_of study-b)" "$nf"
# A file arriving after processing does not cause a second run.
touch "$drop/study-a/late.txt"
sleep 3
check "a late file does not run the study again" eq "$(starts_of "$out" study-a)" 1
# A symbolic link to a folder is not a study: skipped, with a warning.
ln -s "$drop/study-b" "$drop/link-b"
warned() { grep -q "link-b: a symbolic link" "$tmp/watch.log"; }
check "a symlinked folder is skipped with a warning naming it" wait_for 10 warned
sleep 4
check "and never run" eq "$(starts_of "$out" link-b)" 0
check "summary.csv lists both studies as ok" \
    eq "$(grep -c '"ok"' "$out/summary.csv")" 2
check "SIGTERM: exit 0" stop TERM

# --- restart: state on disk; a study dropped while the watcher was down ---
cp -r "$data/mr-cervical-t2-sag/dicom" "$drop/study-c"
start --quiet 2
check "after a restart the study dropped meanwhile is processed" \
    wait_for 60 has_outcome study-c
sleep 1
check "the studies done before the restart are not run again" \
    sh -c "[ $(starts_of "$out" study-a) -eq 1 ] && [ $(starts_of "$out" study-b) -eq 1 ]"
stop TERM

# --- done-marker: a long quiet period, the marker file ends it ---
mkdir "$drop/study-d"
cp "$data/mr-cervical-c5-c7-sag-crop/dicom"/*.dcm "$drop/study-d/"
start --quiet 3600 --done-marker DONE
sleep 3
check "without its marker (quiet 3600 s) the study waits" \
    sh -c "! ls '$out'/outcomes/study-d-*.json >/dev/null 2>&1"
touch "$drop/study-d/DONE"
check "the done-marker starts it" wait_for 60 has_outcome study-d
stop TERM

# --- SIGKILL mid-run: the study runs again after the restart, once ---
slow=$tmp/slow.ini
write_slow_config "$slow"
start --quiet 1 -c "$slow"
cp -r "$data/ct-abdomen-t11-s1/dicom" "$drop/.copy-e"
mv "$drop/.copy-e" "$drop/study-e"
started() { [ "$(starts_of "$out" study-e)" -ge 1 ]; }
wait_for 60 started
sleep 1
kill -KILL "$lpid"
wait "$lpid" 2>/dev/null
lpid=""
no_child() { ! pgrep -f "^$exe run $drop/study-e" >/dev/null; }
check "SIGKILL mid-run: its 'spinepipe run' child dies with it" wait_for 10 no_child
check "and leaves no outcome" sh -c "! ls '$out'/outcomes/study-e-*.json >/dev/null 2>&1"
start --quiet 1 -c "$slow"
check "after the restart the study is finished" wait_for 120 has_outcome study-e
check "it started twice and completed once (ok)" \
    sh -c "[ $(starts_of "$out" study-e) -eq 2 ] && grep -q '\"status\": \"ok\"' '$out'/outcomes/study-e-*.json"
stop TERM
check "five studies, five outcomes, every one ok" \
    eq "$(grep -l '"status": "ok"' "$out"/outcomes/*.json | wc -l)" 5

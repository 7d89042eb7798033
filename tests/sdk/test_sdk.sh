#!/bin/sh
# The stage SDK from the outside: install spinepipe into a temporary root,
# build examples/stage-threshold against the installed headers and
# spinepipe-stage.pc (no access to the source tree's include/), and run it
# inside a pipeline with the installed spinepipe and built-in stages.
# Output: TAP.
set -u
build=$1
src=$2
data=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/spinepipe-sdk-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
n=0
fails=0
check() { # check "description" command...
    n=$((n + 1))
    desc=$1; shift
    if "$@" >"$tmp/last.log" 2>&1; then
        echo "ok $n - $desc"
    else
        echo "not ok $n - $desc"
        sed 's/^/# /' "$tmp/last.log"
        fails=$((fails + 1))
    fi
}
echo "1..7"
check "meson install into a temporary root" \
    env DESTDIR="$tmp/root" meson install -C "$build" --no-rebuild --quiet
pc=$(find "$tmp/root" -name spinepipe-stage.pc | head -1)
pcdir=$(dirname "${pc:-/nonexistent/x}")
export PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$tmp/root"
cflags=$(pkg-config --cflags spinepipe-stage 2>/dev/null)
stagedir="$tmp/root$(pkg-config --variable=stagedir spinepipe-stage 2>/dev/null | sed "s|^$tmp/root||")"
check "pkg-config finds spinepipe-stage and its stagedir holds window.so and png.so" \
    test -f "$stagedir/window.so" -a -f "$stagedir/png.so" -a -n "$cflags"
mkdir -p "$tmp/plugins"
check "the example stage builds against the installed headers only" \
    cc -std=c11 -Wall -Wextra -Werror -shared -fPIC $cflags \
    "$src/examples/stage-threshold/threshold.c" -o "$tmp/plugins/threshold.so"
bin=$(find "$tmp/root" -path '*/bin/spinepipe' | head -1)
export SPINEPIPE_STAGE_PATH="$tmp/plugins:$stagedir"
check "installed spinepipe lists the example stage" \
    sh -c "'$bin' stages | grep -q '^threshold '"
check "--describe shows its parameter table" \
    sh -c "'$bin' stages --describe threshold | grep -q 'low .*float .*default 200, range \[-2000, 4000\] HU'"
check "the example runs inside a pipeline with window and png" \
    "$bin" run "$data/spine/ct-lumbar-l2-l4-crop" -o "$tmp/out" \
    --config "$src/examples/stage-threshold/pipeline.ini"
run=$(find "$tmp/out" -name run.json | head -1)
check "run.json: threshold ok, mask.bone on the series grid, PNGs written" \
    python3 - "$run" <<'PY'
import json, os, sys
r = json.load(open(sys.argv[1]))
assert r["status"] == "ok", r
names = [s["name"] for s in r["stages"]]
assert names == ["threshold", "window", "png"], names
assert all(s["status"] == "ok" for s in r["stages"])
mask = [a for a in r["artifacts"] if a["name"] == "mask.bone"][0]
assert mask["kind"] == "mask" and mask["dim"] == [73, 73, 47], mask
d = os.path.dirname(sys.argv[1])
for p in ("axial", "sagittal", "coronal"):
    assert os.path.getsize(os.path.join(d, p + ".png")) > 0
PY
[ "$fails" -eq 0 ]

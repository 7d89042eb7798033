#!/bin/sh
# docs/stages-reference.md is generated from the stages' parameter tables
# (`spinepipe stages --markdown`); fail when it is out of date. TAP.
set -u
exe=$1
doc=$2
echo "1..1"
unset SPINEPIPE_STAGE_PATH
if "$exe" stages --markdown | diff -u "$doc" - >/tmp/stages-doc.$$ 2>&1; then
    echo "ok 1 - docs/stages-reference.md matches the parameter tables"
else
    echo "not ok 1 - docs/stages-reference.md is stale; regenerate with: spinepipe stages --markdown > docs/stages-reference.md"
    sed 's/^/# /' /tmp/stages-doc.$$
fi
rm -f /tmp/stages-doc.$$

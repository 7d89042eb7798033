"""compare_outputs.py REF STUDIES: every series folder REF/<study>/<series>
of a `spinepipe run` appears exactly once as STUDIES/<key>/<study>/<series>
(a batch's outputs) with the same files, byte for byte, and run.json with
the same status. Exit 0 when so; the differences on stderr otherwise."""
import glob
import json
import os
import sys

ref, studies = sys.argv[1], sys.argv[2]
bad = []
ref_series = sorted(glob.glob(os.path.join(ref, "*", "*", "run.json")))
got_series = glob.glob(os.path.join(studies, "*", "*", "*", "run.json"))
if not ref_series:
    bad.append("no series in the reference run")
if len(got_series) != len(ref_series):
    bad.append(f"{len(got_series)} series in the batch, {len(ref_series)} in the run")
for rj in ref_series:
    rel = os.path.relpath(os.path.dirname(rj), ref)
    hits = glob.glob(os.path.join(studies, "*", rel))
    if len(hits) != 1:
        bad.append(f"{rel}: {len(hits)} copies in the batch")
        continue
    rdir, bdir = os.path.dirname(rj), hits[0]
    rfiles, bfiles = sorted(os.listdir(rdir)), sorted(os.listdir(bdir))
    if rfiles != bfiles:
        bad.append(f"{rel}: files {rfiles} vs {bfiles}")
        continue
    for f in rfiles:
        a = open(os.path.join(rdir, f), "rb").read()
        b = open(os.path.join(bdir, f), "rb").read()
        if f == "run.json":
            if json.loads(a)["status"] != json.loads(b)["status"] or json.loads(a)["status"] != "ok":
                bad.append(f"{rel}/run.json: status differs or not ok")
        elif a != b:
            bad.append(f"{rel}/{f}: contents differ")
for b in bad:
    print(b, file=sys.stderr)
sys.exit(1 if bad else 0)

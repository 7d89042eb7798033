"""check_summary.py OUT MANIFEST N_OK N_FAILED N_PENDING: OUT/summary.csv
and OUT/summary.json hold one entry per distinct manifest line, in order,
with the path exactly as listed (relative ones joined to the manifest's
folder) and the outcome file's status, exit code and series counts."""
import csv
import json
import os
import sys

out, manifest = sys.argv[1], sys.argv[2]
want = dict(ok=int(sys.argv[3]), failed=int(sys.argv[4]), pending=int(sys.argv[5]))
base = os.path.dirname(os.path.realpath(manifest))
paths = []
for raw in open(manifest, "rb").read().decode().split("\n"):
    line = raw.rstrip("\r").strip(" \t")
    if not line or line.startswith("#"):
        continue
    p = line if line.startswith("/") else base + "/" + line
    if p not in paths:
        paths.append(p)
rows = list(csv.DictReader(open(os.path.join(out, "summary.csv"), newline="")))
doc = json.load(open(os.path.join(out, "summary.json")))
errors = []
if [r["path"] for r in rows] != paths:
    errors.append(f"CSV paths {[r['path'] for r in rows]} != {paths}")
if [s["path"] for s in doc["studies"]] != paths:
    errors.append("JSON paths differ from the manifest")
counts = {k: sum(1 for r in rows if r["status"] == k) for k in want}
if counts != want:
    errors.append(f"CSV statuses {counts} != {want}")
for k in want:
    if doc["counts"][k] != want[k]:
        errors.append(f"JSON count {k} {doc['counts'][k]} != {want[k]}")
for r, s in zip(rows, doc["studies"]):
    o_path = os.path.join(out, "outcomes", s["key"] + ".json")
    if s["status"] == "pending":
        if os.path.exists(o_path):
            errors.append(f"{s['path']}: pending but has an outcome")
        continue
    o = json.load(open(o_path))
    if r["status"] != o["status"] or int(r["exit_code"]) != o["exit_code"]:
        errors.append(f"{s['path']}: CSV status/exit differ from the outcome")
    if int(r["series_ok"]) != o["series"]["ok"] or int(r["series_total"]) != o["series"]["total"]:
        errors.append(f"{s['path']}: CSV series counts differ from the outcome")
    if o["status"] == "ok" and not (float(r["seconds"]) > 0 and float(r["cpu_seconds"]) > 0
                                    and float(r["max_rss_mb"]) > 1):
        errors.append(f"{s['path']}: no duration, CPU time or peak memory")
    if o["status"] == "failed" and not r["error"]:
        errors.append(f"{s['path']}: failed without a reason")
for e in errors:
    print(e, file=sys.stderr)
sys.exit(1 if errors else 0)

"""check_truth.py OUT TRUTH: the summary's narrowest canal (CSV and JSON)
is the smallest canal_ap_mm of the phantom's truth.json, at its level."""
import csv
import json
import os
import sys

out, truth = sys.argv[1], json.load(open(sys.argv[2]))
levels = [lv for lv in truth["levels"] if lv.get("canal_ap_mm") is not None]
best = min(levels, key=lambda lv: lv["canal_ap_mm"])
row = list(csv.DictReader(open(os.path.join(out, "summary.csv"))))[0]
doc = json.load(open(os.path.join(out, "summary.json")))["studies"][0]
ok = (abs(float(row["min_canal_ap_mm"]) - best["canal_ap_mm"]) < 0.01
      and row["min_canal_ap_level"] == best["level"]
      and abs(doc["min_canal_ap_mm"] - best["canal_ap_mm"]) < 1e-6
      and len(doc["results"][0]["levels"]) == len(truth["levels"]))
if not ok:
    print(f"summary {row['min_canal_ap_mm']} at {row['min_canal_ap_level']}, "
          f"truth {best['canal_ap_mm']} at {best['level']}", file=sys.stderr)
sys.exit(0 if ok else 1)

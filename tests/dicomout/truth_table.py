#!/usr/bin/env python3
"""The measurements table an analysis stage would hand to the report
(docs/report-json.md), from a phantom's truth.json, with canal AP findings
by CLINICAL.md's cut-offs (relative < 12 mm, absolute < 10 mm).
usage: truth_table.py TRUTH.json OUT.json"""
import json
import sys

truth = json.load(open(sys.argv[1]))
levels = []
for lv in truth["levels"]:
    ap = lv["canal_ap_mm"]
    sev = "absolute" if ap < 10 else "relative" if ap < 12 else "normal"
    levels.append({
        "level": lv["level"],
        "canal_ap_mm": ap,
        "canal_area_mm2": lv["canal_area_mm2"],
        "disc_height_mm": lv["disc_height_mm"],
        "posterior_displacement_mm": lv["posterior_displacement_mm"],
        "findings": [{"code": "canal_ap_stenosis", "severity": sev,
                      "value": ap, "threshold": 10.0 if ap < 10 else 12.0,
                      "source": "truth"}],
        "disc_centroid_mm": lv["disc_centroid_mm"],
    })
vertebrae = [{"label": v["label"], "centroid_mm": v["centroid_mm"]}
             for v in truth["vertebrae"]]
json.dump({"vertebrae": vertebrae, "levels": levels, "warnings": []},
          open(sys.argv[2], "w"), indent=1)

"""The SR's image coordinates read back with DCMTK (dsrdump, dcmdump)
against report.json: every level with a key image has its canal AP
caliper, canal outline (closed) and displacement caliper as POLYLINEs on
that key image's Secondary Capture, at the pixels the key image's own
geometry (its spinepipe:* text chunks) gives for report.json's LPS points.

usage: sr_scoord_check.py SERIES_DIR DICOM_DIR   (exit 0 when all hold;
prints what it checked)
"""
import glob
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "common"))
from png_text import png_texts  # noqa: E402


def to_pixel(chunks, p):
    """Image coordinates (column, row) of LPS point p on a report image."""
    o = [float(v) for v in chunks["spinepipe:origin_lps"].split()]
    r = [float(v) for v in chunks["spinepipe:right_lps"].split()]
    d = [float(v) for v in chunks["spinepipe:down_lps"].split()]
    px = float(chunks["spinepipe:pixel_mm"])
    ox, oy = (float(v) for v in chunks["spinepipe:image_offset_px"].split())
    u = sum((p[k] - o[k]) * r[k] for k in range(3))
    v = sum((p[k] - o[k]) * d[k] for k in range(3))
    return ox + u / px + 0.5, oy + v / px + 0.5


def tag(path, key):
    text = subprocess.run(["dcmdump", "-q", "+P", key, path],
                          capture_output=True, text=True).stdout
    m = re.search(r"\[(.*?)\]", text)
    return m.group(1) if m else ""


def sr_scoords(sr):
    """{level: {measurement: (points, image uid)}} from dsrdump."""
    text = subprocess.run(["dsrdump", "+Pl", "+Pu", sr], capture_output=True,
                          text=True, check=True).stdout
    out, level, num, pending = {}, None, None, None
    for line in text.splitlines():
        m = re.search(r'"Tracking Identifier"\)="([^"]*)"', line)
        if m:
            level = m.group(1)
            out[level] = {}
        m = re.search(r'NUM:\(,,"([^"]*)"\)', line)
        if m:
            num = m.group(1)
        m = re.search(r'SCOORD:\(,,"Source of Measurement"\)=\(POLYLINE,'
                      r'([^)]*)\)', line)
        if m:
            pts = [tuple(float(v) for v in p.split("/"))
                   for p in m.group(1).split(",")]
            pending = pts
        m = re.search(r"IMAGE:=\(SC image,([^)]*)\)", line)
        if m and pending is not None:
            out[level][num] = (pending,
                               m.group(1).split(",")[-1].strip().strip("\""))
            pending = None
    return out


def main():
    series, dicom = sys.argv[1], sys.argv[2]
    report = json.load(open(os.path.join(series, "report.json")))
    pngs = sorted(os.path.basename(p)
                  for p in glob.glob(os.path.join(series, "*.png")))
    sc_uid = {name: tag(os.path.join(dicom, "sc-%04d.dcm" % (i + 1)),
                        "0008,0018")
              for i, name in enumerate(pngs)}
    scoords = sr_scoords(os.path.join(dicom, "sr.dcm"))
    wanted = (("canal_ap_endpoints_mm", "Spinal canal anteroposterior "
               "diameter", False),
              ("canal_outline_mm", "Spinal canal cross-sectional area", True),
              ("displacement_caliper_mm", "Posterior disc displacement",
               False))
    checked = 0
    for lv in report["levels"]:
        name = "key_%s.png" % lv["level"]
        if name not in pngs:
            continue
        chunks = png_texts(os.path.join(series, name))
        for key, measurement, closed in wanted:
            if not lv.get(key):
                continue
            got = scoords.get(lv["level"], {}).get(measurement)
            assert got, "%s: no SCOORD for %s" % (lv["level"], measurement)
            points, uid = got
            assert uid == sc_uid[name], (lv["level"], measurement, uid)
            want = [to_pixel(chunks, p) for p in lv[key]]
            if closed:
                want.append(want[0])
            assert len(points) == len(want), (lv["level"], measurement)
            worst = max(abs(a - b) for p, q in zip(points, want)
                        for a, b in zip(p, q))
            assert worst < 0.01, (lv["level"], measurement, worst)
            checked += 1
    print("# %d SCOORDs on key images match report.json" % checked)
    assert checked > 0
    return 0


if __name__ == "__main__":
    sys.exit(main())

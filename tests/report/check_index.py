#!/usr/bin/env python3
"""Check a run's index.html with Python's own HTML parser: well formed
(every non-void element closed in order), no script and no network link,
every href and src a relative path to a file that exists, each series
listed with its description, and the findings of every key image in the
same words as the image (its spinepipe:findings text chunk). Usage: check_index.py OUT_DIR [DESCRIPTION...]
Prints TAP lines; exits non-zero on any failure."""
import glob
import html.parser
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "common"))
from png_text import png_texts  # noqa: E402

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
        "meta", "source", "track", "wbr"}


class Checker(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.links, self.text = [], [], [], []

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.errors.append("a <script> element")
        for name, value in attrs:
            if name in ("href", "src"):
                self.links.append(value or "")
            if name.startswith("on"):
                self.errors.append("an event handler attribute %s" % name)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append("</%s> does not close <%s>" %
                               (tag, self.stack[-1] if self.stack else ""))
            return
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def key_image_findings(out):
    """Each finding of the key images in words, as the images say it."""
    words = []
    for png in sorted(glob.glob(os.path.join(out, "*", "*", "key_*.png"))):
        flags = png_texts(png).get("spinepipe:findings", "")
        words += [w for w in flags.split("; ") if w]
    return words


def main():
    out = sys.argv[1]
    wanted = sys.argv[2:]
    failures = 0
    page = os.path.join(out, "index.html")
    with open(page, encoding="utf-8") as f:
        source = f.read()
    c = Checker()
    c.feed(source)
    c.close()
    checks = []
    checks.append(("starts with <!DOCTYPE html>",
                   source.lstrip().lower().startswith("<!doctype html>")))
    checks.append(("well formed: %s" % "; ".join(c.errors or ["yes"]),
                   not c.errors and not c.stack))
    bad = [u for u in c.links if "://" in u or u.startswith("//")
           or u.startswith("/") or ".." in u.split("/")]
    checks.append(("no absolute or network links %s" % bad, not bad))
    missing = [u for u in c.links
               if not os.path.isfile(os.path.join(out, u))]
    checks.append(("all %d links resolve %s" % (len(c.links), missing),
                   c.links and not missing))
    text = " ".join(c.text)
    checks.append(("disclaimer shown",
                   "Research/triage aid. Not for diagnostic use." in text))
    for d in wanted:
        checks.append(("series '%s' listed" % d, d in text))
    words = key_image_findings(out)
    checks.append(("key images name findings (%d)" % len(words),
                   len(words) > 0))
    absent = [w for w in words if w not in text]
    checks.append(("index.html names the key images' findings in their "
                   "words %s" % absent, not absent))
    codes = [c for c in ("_stenosis", "_herniation", "_displacement")
             if c in text]
    checks.append(("no finding codes in index.html %s" % codes, not codes))
    print("1..%d" % len(checks))
    for i, (name, ok) in enumerate(checks, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", i, name))
        failures += not ok
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

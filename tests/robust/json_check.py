#!/usr/bin/env python3
"""Checks on spinepipe's JSON outputs for the hostile-input tests.

    json_check.py skipped INFO.json FILE_SUBSTRING REASON_SUBSTRING
        exit 0 when a skipped entry's path contains FILE_SUBSTRING and its
        reason contains REASON_SUBSTRING (case-insensitive)
    json_check.py slices INFO.json SERIES_UID
        print the slice count of that series (0 when absent)
    json_check.py nseries INFO.json
        print the number of series
    json_check.py nskipped INFO.json
        print the number of skipped files
    json_check.py strict FILE.json
        exit 0 when FILE is valid UTF-8 JSON (strict: no NUL or control
        characters left raw in strings)
"""
import json
import sys


def load(path):
    with open(path, "rb") as f:
        return json.loads(f.read().decode("utf-8"))


def main():
    cmd, path = sys.argv[1], sys.argv[2]
    d = load(path)
    if cmd == "skipped":
        want_file, want_reason = sys.argv[3], sys.argv[4].lower()
        for s in d.get("skipped", []):
            if want_file in s["path"] and want_reason in s["reason"].lower():
                return 0
        print("no skipped entry for %s with '%s'" % (want_file, want_reason),
              file=sys.stderr)
        return 1
    if cmd == "slices":
        for s in d.get("series", []):
            if s["series_uid"] == sys.argv[3]:
                print(s["slices"])
                return 0
        print(0)
        return 0
    if cmd == "nseries":
        print(len(d.get("series", [])))
        return 0
    if cmd == "nskipped":
        print(len(d.get("skipped", [])))
        return 0
    if cmd == "strict":
        def walk(v):
            if isinstance(v, str):
                if any(ord(c) < 32 and c not in "\n\t" for c in v):
                    raise ValueError("control character in %r" % v)
            elif isinstance(v, dict):
                for k, x in v.items():
                    walk(k)
                    walk(x)
            elif isinstance(v, list):
                for x in v:
                    walk(x)
        walk(d)
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())

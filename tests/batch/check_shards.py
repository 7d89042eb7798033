"""check_shards.py OUT N: each outcome's shard "K/N" is its manifest line's
0-based index among the studies modulo N (here no comments, one study a
line, so index = line - 1)."""
import glob
import json
import sys

out, n = sys.argv[1], int(sys.argv[2])
outcomes = [json.load(open(p)) for p in glob.glob(out + "/outcomes/*.json")]
bad = [o["path"] for o in outcomes if o.get("shard") != f"{(o['line'] - 1) % n}/{n}"]
for b in bad:
    print("wrong shard:", b, file=sys.stderr)
sys.exit(1 if bad or not outcomes else 0)

# Shared by the batch tests (sourced): the network tests' TAP helpers and
# temporary folder, plus readers of a batch output folder.
. "$(dirname "$0")/../net/tap_lib.sh"

# starts_of OUT KEYPREFIX: attempts recorded in the study's log.
starts_of() {
    cat "$1"/logs/"$2"-*.log 2>/dev/null | grep -c '^== spinepipe batch: start'
}
# starts_max OUT: the most attempts of any study.
starts_max() {
    for f in "$1"/logs/*.log; do
        grep -c '^== spinepipe batch: start' "$f"
    done | sort -n | tail -1
}
# outcomes_with OUT STATUS NSERIES: outcomes with that status and series
# count.
outcomes_with() {
    python3 - "$@" <<'PY'
import glob, json, sys
n = 0
for p in glob.glob(sys.argv[1] + "/outcomes/*.json"):
    o = json.load(open(p))
    if o["status"] == sys.argv[2] and o["series"]["total"] == int(sys.argv[3]):
        n += 1
print(n)
PY
}
# outcome_is OUT PATH-SUFFIX STATUS EXIT: the study whose path ends so.
outcome_is() {
    python3 - "$@" <<'PY'
import glob, json, sys
hits = [o for o in (json.load(open(p)) for p in glob.glob(sys.argv[1] + "/outcomes/*.json"))
        if o["path"].endswith(sys.argv[2])]
sys.exit(not (len(hits) == 1 and hits[0]["status"] == sys.argv[3]
              and hits[0]["exit_code"] == int(sys.argv[4]) and hits[0].get("error")))
PY
}
# same_as_run OUT DIR...: run 'spinepipe run DIR... -o REF' and compare
# every series folder byte for byte (run.json only by status: it holds
# timings).
same_as_run() {
    bout=$1
    shift
    ref=$(mktemp -d "$tmp/ref.XXXXXX")
    "$exe" run "$@" -o "$ref" >/dev/null 2>&1 || return 1
    python3 "$(dirname "$0")/compare_outputs.py" "$ref" "$bout/studies"
}

# write_slow_config FILE: a pipeline whose denoise takes seconds per study,
# so that a test can interrupt a study while it runs.
write_slow_config() {
    cat >"$1" <<INI
[pipeline]
name = test-slow
description = test: a costly denoise so that a study can be interrupted mid-run
[denoise]
method = diffusion
iterations = 60
[window]
[report]
INI
}

#!/usr/bin/env bash
# A pull request's preview, on moto with the local runner playing Lambda (fixtures +
# VADER), timed from `fangops deploy --preview N` to its comment written with the
# results:
#   (a) a pull request that adds one company: a new preview stack, synced, verified
#       with a canary run that carries the added company, its result in the comment;
#   (b) a second push to it that adds another company and changes nothing in the
#       Lambdas: the stack is current, so only the sync and the canary run;
#   (c) a pull request that changes no company (a new preview, nothing to show);
# beside what a user would do without previews: deploy the shared dev stack and run
# the whole pipeline to see the new company's result.
# The zips are given (`--artifacts`), as the artifact index gives them to a pull
# request that does not touch the Lambdas (bench/pr.sh times that path): no compiler.
#   bench/preview.sh [N]     N=200 companies; PROFILE=dev|release (default release)
set -euo pipefail
source "$(dirname "$0")/common.sh"
n=${1:-$(smoke 3 200)}
build_fangops
start_moto
project=$(new_project); trap 'rm -rf "$project"' EXIT
mkdir -p "$project/infra/pricing"
cp "$root/infra/pricing/"*.yaml "$project/infra/pricing/"
stack=fang-bench-pv
bucket=fangops-artifacts-bench-pv

env_file() { # FILE EXTRA_COMPANY...
  local file=$1; shift
  {
    printf 'stack: %s\nregion: us-east-1\nendpoint_url: %s\nsentiment: vader\ntext_source: fixtures\ncompanies:\n' "$stack" "$MOTO_ENDPOINT"
    "$venv/bin/python" -c "import sys; sys.stdout.write(''.join(f'  - Company {i:04d}\n' for i in range(int(sys.argv[1]))))" "$n"
    for c in "$@"; do printf '  - %s\n' "$c"; done
  } > "$file"
}
fangops() { "$FANGOPS" -C "$project" "$@" --artifact-bucket "$bucket" --json 2>/dev/null; }
preview() { # PR: deploy the preview against base.yaml, write the comment
  fangops deploy --env dev --artifacts "$project/artifacts" --preview "$1" \
    --base "file:$project/base.yaml" --comment --comment-out "$project/pr$1.md"
}
field() { "$venv/bin/python" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

env_file "$project/base.yaml"
env_file "$project/environments/dev.yaml"
# The shared stack, as main has it: the baseline the alternative redeploys.
fangops deploy --env dev --artifacts "$project/artifacts" --no-verify > /dev/null

env_file "$project/environments/dev.yaml" "Spotify"
t0=$(now); a=$(preview 1); t1=$(now)
grep -q '| Spotify |' "$project/pr1.md" || { echo "no result for Spotify in the comment: $(cat "$project/pr1.md")" >&2; exit 1; }
a_verify=$(field 'round(d["deploy"]["verification"]["duration_s"], 1)' <<<"$a")

env_file "$project/environments/dev.yaml" "Spotify" "Klarna"
t2=$(now); b=$(preview 1); t3=$(now)
b_outcome=$(field 'd["deploy"]["outcome"]' <<<"$b")
grep -q '| Klarna |' "$project/pr1.md" || { echo "no result for Klarna in the comment" >&2; exit 1; }

env_file "$project/environments/dev.yaml"
t4=$(now); preview 2 > /dev/null; t5=$(now)
cost=$(field 'round(d["cost_per_day"], 3)' <<<"$a")

# Without previews: deploy the shared stack with the new company, then run it all.
env_file "$project/environments/dev.yaml" "Spotify"
t6=$(now)
fangops deploy --env dev --artifacts "$project/artifacts" --no-verify > /dev/null
"$FANGOPS" -C "$project" run --env dev --json > /dev/null 2>&1
t7=$(now)

python3 - "$n" "$t0" "$t1" "$a_verify" "$t2" "$t3" "$b_outcome" "$t4" "$t5" "$t6" "$t7" "$cost" "$PROFILE" <<'PY'
import sys
n = int(sys.argv[1])
t0, t1, a_verify, t2, t3 = map(float, sys.argv[2:7])
b_outcome = sys.argv[7]
t4, t5, t6, t7, cost = map(float, sys.argv[8:13])
print(f"a pull request's preview on moto, {n} companies, fangops {sys.argv[13]} build, zips given")
print(f"(a) adds one company, to its result in the comment:    {t1 - t0:6.1f} s (verification with it {a_verify:.1f} s)")
print(f"(b) next push adds another, Lambdas unchanged:         {t3 - t2:6.1f} s (stack {b_outcome})")
print(f"(c) a pull request that changes no company:            {t5 - t4:6.1f} s")
print(f"    without previews: deploy shared dev + run all {n:>4}: {t7 - t6:6.1f} s (and the next pull request undoes it)")
print(f"    a preview costs about ${cost:.3f} a day by the model")
PY

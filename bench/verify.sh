#!/usr/bin/env bash
# What a deploy's proof costs, and how fast a broken deploy is undone, on moto with the
# local runner playing Lambda (fixtures + VADER):
#   (a) the time a verified deploy spends in verification (one canary), beside a full
#       `fangops run` of every company: what a user checks a deploy with otherwise;
#   (b) the time from a failed verification to the stack rolled back (and the rollback
#       verified), beside a manual fix: redeploying the previous env file by hand.
# The broken deploy points the text source at Wikipedia with nothing answering
# (WIKIPEDIA_BASE_URL=http://127.0.0.1:1) and `verify.timeout_s: 10`.
#   bench/verify.sh [N]      N=200 companies; PROFILE=dev|release (default release)
set -euo pipefail
source "$(dirname "$0")/common.sh"
n=${1:-$(smoke 3 200)}
build_fangops
start_moto
project=$(new_project); trap 'rm -rf "$project"' EXIT
stack=fang-bench-verify
bucket=fangops-artifacts-bench-verify

env_file() { # EXTRA...
  {
    printf 'stack: %s\nregion: us-east-1\nendpoint_url: %s\nsentiment: vader\ntext_source: fixtures\n' "$stack" "$MOTO_ENDPOINT"
    for line in "$@"; do printf '%s\n' "$line"; done
    printf 'companies:\n'
    "$venv/bin/python" -c "import sys; sys.stdout.write(''.join(f'  - Company {i:04d}\n' for i in range(int(sys.argv[1]))))" "$n"
  } > "$project/environments/b.yaml"
}
fangops() { "$FANGOPS" -C "$project" "$@" --env b --artifact-bucket "$bucket" --json 2>/dev/null; }
deploy() { fangops deploy --artifacts "$project/artifacts" "$@"; }
field() { "$venv/bin/python" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

env_file
deploy --no-verify > /dev/null
env_file 'lambda: {memory_mb: 512}'
t0=$(now); report=$(deploy --verify); t1=$(now)
verify_s=$(field 'round(d["verification"]["duration_s"], 1)' <<<"$report")
passed=$(field 'd["verification"]["passed"]' <<<"$report")
[ "$passed" = True ] || { echo "the good deploy did not verify: $report" >&2; exit 1; }
t2=$(now); "$FANGOPS" -C "$project" run --env b --json > /dev/null 2>&1; t3=$(now)

env_file 'lambda: {memory_mb: 512}' 'verify: {timeout_s: 10}'
sed -i 's/^text_source: fixtures/text_source: wikipedia/' "$project/environments/b.yaml"
report=$(WIKIPEDIA_BASE_URL=http://127.0.0.1:1 deploy --verify || true)
outcome=$(field 'd["rollback"]["outcome"]' <<<"$report")
[ "$outcome" = rolled_back ] || { echo "no rollback: $report" >&2; exit 1; }
failed_s=$(field 'round(d["verification"]["duration_s"], 1)' <<<"$report")
rollback_s=$(field 'round(d["rollback"]["duration_s"], 1)' <<<"$report")
reverify_s=$(field 'round(d["rollback"]["verification"]["duration_s"], 1)' <<<"$report")
# The manual alternative: put the good file back and deploy it (no verification).
env_file 'lambda: {memory_mb: 512}'
sed -i 's/^text_source: fixtures/text_source: wikipedia/' "$project/environments/b.yaml"
deploy --no-verify --no-rollback > /dev/null 2>&1 || true
env_file 'lambda: {memory_mb: 512}'
t4=$(now); deploy --no-verify > /dev/null; t5=$(now)

python3 - "$n" "$verify_s" "$t0" "$t1" "$t2" "$t3" "$failed_s" "$rollback_s" "$reverify_s" "$t4" "$t5" "$PROFILE" <<'PY'
import sys
n, verify_s = int(sys.argv[1]), float(sys.argv[2])
t0, t1, t2, t3 = map(float, sys.argv[3:7])
failed_s, rollback_s, reverify_s = map(float, sys.argv[7:10])
t4, t5 = map(float, sys.argv[10:12])
print(f"verification on moto, {n} companies, fangops {sys.argv[12]} build")
print(f"(a) verified deploy end to end:             {t1 - t0:6.1f} s")
print(f"    of which verification (1 canary):       {verify_s:6.1f} s")
print(f"    a full `fangops run` of {n:>4} companies:  {t3 - t2:6.1f} s")
print(f"(b) failed verification (text source down): {failed_s:6.1f} s")
print(f"    then rolled back and verified again:    {rollback_s:6.1f} s (stack {rollback_s - reverify_s:.1f} s, canary {reverify_s:.1f} s)")
print(f"    by hand: redeploy the previous file:    {t5 - t4:6.1f} s (unverified, after someone notices)")
PY

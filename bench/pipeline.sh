#!/usr/bin/env bash
# Local pipeline throughput: N companies (default 1,000) through `fangops run` on moto,
# with offline texts and the embedded analyzer. Prints companies per second.
#   bench/pipeline.sh [N]        PROFILE=dev|release (default release)
set -euo pipefail
source "$(dirname "$0")/common.sh"
n=${1:-$(smoke 5 1000)}
build_fangops
start_moto
project=$(new_project); trap 'rm -rf "$project"' EXIT
{
  printf 'stack: fang-bench\nregion: us-east-1\nendpoint_url: %s\nsentiment: vader\ntext_source: fixtures\ncompanies:\n' "$MOTO_ENDPOINT"
  for i in $(seq -w 1 "$n"); do echo "  - Company $i"; done
} > "$project/environments/bench.yaml"
"$FANGOPS" -C "$project" deploy --env bench --artifacts "$project/artifacts" >/dev/null
start=$(now)
"$FANGOPS" -C "$project" run --env bench --json > "$project/run.json"
end=$(now)
python3 - "$project/run.json" "$start" "$end" "$n" "$PROFILE" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
start, end, n, profile = float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
secs = end - start
print(f"pipeline ({profile} build, moto): {report['succeeded']}/{n} companies in {secs:.1f} s = {n/secs:.1f} companies/s")
PY

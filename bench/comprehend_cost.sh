#!/usr/bin/env bash
# The Comprehend line of `fangops cost` for 1,000 companies hourly: what sending each
# whole text would cost (1,200 characters = 12 units, as before) against what fangops
# sends (the 500 characters Comprehend reads = 5 units). No AWS, no emulator.
#   bench/comprehend_cost.sh [N]
set -euo pipefail
source "$(dirname "$0")/common.sh"
n=${1:-$(smoke 10 1000)}
PROFILE=${PROFILE:-dev}
build_fangops
project=$(new_project); trap 'rm -rf "$project"' EXIT
{
  # Without the cache (bench/cache.sh measures that): every text sent, every run.
  printf 'stack: fang-bench-cost\nregion: us-east-1\nschedule: rate(1 hour)\nsentiment: comprehend\ncache: {enabled: false}\ncompanies:\n'
  for i in $(seq -w 1 "$n"); do echo "  - Company $i"; done
} > "$project/environments/cost.yaml"
cp -r "$root/infra/pricing" "$project/infra/"
"$FANGOPS" -C "$project" cost --env cost --no-actual --json > "$project/cost.json"
python3 - "$project/cost.json" "$n" <<'PY'
import json, math, sys
e = json.load(open(sys.argv[1]))["estimate"]
n = int(sys.argv[2])
line = next(l for l in e["lines"] if l["price_key"] == "comprehend_sentiment_units")
price = line["cost"] / line["quantity"]
runs = e["runs_per_month"]
before_units = math.ceil(1200 / 100)
after_units = line["quantity"] / (runs * n)
print(f"Comprehend, {n} companies hourly ({runs:.0f} runs a month), 1,200 characters a text:")
print(f"  whole text sent:        {before_units:2d} units a text, {runs * n * before_units:12,.0f} units, ${runs * n * before_units * price:10,.2f} a month")
print(f"  500 characters (fangops): {after_units:2.0f} units a text, {line['quantity']:12,.0f} units, ${line['cost']:10,.2f} a month")
print(f"  saved: ${runs * n * before_units * price - line['cost']:,.2f} a month ({100 * (1 - after_units / before_units):.0f}%)")
PY

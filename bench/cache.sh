#!/usr/bin/env bash
# What the cache saves: a local run of N companies (default 1,000) with Wikipedia texts
# and Comprehend (stand-ins for both, counting), then a second run with nothing
# changed, then a third with 5% of the texts changed. Goal: no Comprehend call and no
# text downloaded on the second run, about 5% of each on the third. Then `fangops cost`
# of N companies hourly, with the cache and without.
#   bench/cache.sh [N]        PROFILE=dev|release (default release)
set -euo pipefail
source "$(dirname "$0")/common.sh"
n=${1:-$(smoke 20 1000)}
build_fangops
start_moto
trap 'stop_standins' EXIT
standin "$root/bench/comprehend_standin.py" 1000000000; comprehend=$standin_url
standin "$root/bench/wikipedia_standin.py"; wikipedia=$standin_url
project=$(new_project)
trap 'rm -rf "$project"; stop_standins' EXIT
cp -r "$root/infra/pricing" "$project/infra/"
env_file() { # NAME SCHEDULE EXTRA
  {
    printf 'stack: fang-bench-cache\nregion: us-east-1\nendpoint_url: %s\nsentiment: comprehend\ntext_source: wikipedia\nschedule: %s\n%s' "$MOTO_ENDPOINT" "$2" "$3"
    printf 'companies:\n'
    for i in $(seq -w 1 "$n"); do echo "  - Company $i"; done
  } > "$project/environments/$1.yaml"
}
env_file c 'rate(1 hour)' ''
env_file nocache 'rate(1 hour)' $'cache: {enabled: false}\n'
"$FANGOPS" -C "$project" deploy --env c --artifacts "$project/artifacts" >/dev/null 2>&1
run() {
  AWS_ENDPOINT_URL_COMPREHEND=$comprehend WIKIPEDIA_BASE_URL=$wikipedia \
    "$FANGOPS" -C "$project" run --env c --json > "$project/run$1.json" 2>/dev/null
  curl -s "$comprehend/stats" > "$project/comprehend$1.json"
  curl -s "$wikipedia/stats" > "$project/wikipedia$1.json"
}
run 1
run 2
curl -s -X POST "$wikipedia/change?share=0.05" > /dev/null
run 3
"$FANGOPS" -C "$project" cost --env c --no-actual --json > "$project/cost_c.json" 2>/dev/null
"$FANGOPS" -C "$project" cost --env nocache --no-actual --json > "$project/cost_n.json" 2>/dev/null
python3 - "$project" "$n" <<'PY'
import json, sys
p, n = sys.argv[1], int(sys.argv[2])
load = lambda name: json.load(open(f"{p}/{name}.json"))
print(f"the cache on a local run of {n} companies (Wikipedia and Comprehend stand-ins)")
print(f"{'run':<28}{'done':>6}{'Comprehend calls':>18}{'texts scored':>14}{'text bytes':>12}{'304s':>7}")
prev_c = {"calls": 0, "documents": 0}
prev_w = {"requests": 0, "not_modified": 0, "body_bytes": 0}
for i, what in [(1, "1: nothing kept"), (2, "2: nothing changed"), (3, "3: 5% of texts changed")]:
    r, c, w = load(f"run{i}"), load(f"comprehend{i}"), load(f"wikipedia{i}")
    print(f"{what:<28}{r['succeeded']:>6}{c['calls'] - prev_c['calls']:>18}{c['documents'] - prev_c['documents']:>14}"
          f"{w['body_bytes'] - prev_w['body_bytes']:>12}{w['not_modified'] - prev_w['not_modified']:>7}")
    prev_c, prev_w = c, w
def comprehend(cost):
    return next((s["monthly"] for s in cost["estimate"]["services"] if s["service"] == "Amazon Comprehend"), 0.0)
c, nc = load("cost_c"), load("cost_n")
print(f"fangops cost, {n} companies hourly: with the cache ${c['estimate']['monthly']:,.2f}/month "
      f"(Comprehend ${comprehend(c):,.2f}), without ${nc['estimate']['monthly']:,.2f}/month (Comprehend ${comprehend(nc):,.2f})")
PY

#!/usr/bin/env bash
# A local run of N companies (default 1,000) through `fangops run` with Amazon
# Comprehend as the analyzer, where one Comprehend call in five is throttled (a
# stand-in answers, since moto has no BatchDetectSentiment). Throttled texts are tried
# again, per document, with backoff, while the function has time: the run ends with
# every company done and nothing in the dead-letter queue.
#   bench/throttled.sh [N]        PROFILE=dev|release (default release)
set -euo pipefail
source "$(dirname "$0")/common.sh"
n=${1:-$(smoke 20 1000)}
build_fangops
start_moto
trap 'stop_standins' EXIT
# One call in five throttled; one in two in a smoke run, whose few calls must meet one.
standin "$root/bench/comprehend_standin.py" "$(smoke 2 5)"; standin=$standin_url
project=$(new_project); trap 'rm -rf "$project"; stop_standins' EXIT
{
  printf 'stack: fang-bench-thr\nregion: us-east-1\nendpoint_url: %s\nsentiment: comprehend\ntext_source: fixtures\ncompanies:\n' "$MOTO_ENDPOINT"
  for i in $(seq -w 1 "$n"); do echo "  - Company $i"; done
} > "$project/environments/thr.yaml"
"$FANGOPS" -C "$project" deploy --env thr --artifacts "$project/artifacts" >/dev/null 2>&1
start=$(now)
# One attempt per SDK call: the retries measured are fangops's own, per document.
AWS_MAX_ATTEMPTS=1 AWS_ENDPOINT_URL_COMPREHEND=$standin \
  "$FANGOPS" -C "$project" run --env thr --json > "$project/run.json" 2>/dev/null
end=$(now)
AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x AWS_DEFAULT_REGION=us-east-1 \
  "$venv/bin/python" - "$project/run.json" "$start" "$end" "$n" "$standin" "$MOTO_ENDPOINT" <<'PY'
import json, sys, urllib.request
import boto3
report = json.load(open(sys.argv[1]))
start, end, n, standin, endpoint = float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
stats = json.load(urllib.request.urlopen(standin + "/stats"))
sqs = boto3.client("sqs", endpoint_url=endpoint)
dlq = sqs.get_queue_url(QueueName="fang-bench-thr-companies-dlq")["QueueUrl"]
in_dlq = int(sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"])
print(f"throttled Comprehend, {n} companies: {report['succeeded']}/{n} done, {len(report['failed'])} failed, "
      f"{in_dlq} in the dead-letter queue, in {end - start:.1f} s")
print(f"  Comprehend calls {stats['calls']}, of which throttled {stats['throttled']} "
      f"({100 * stats['throttled'] / max(stats['calls'], 1):.0f}%); longest text sent {stats['longest_text']} characters")
assert report["succeeded"] == n and not report["failed"] and in_dlq == 0, "not every company was done"
assert stats["throttled"] > 0, "no call was throttled"
assert stats["longest_text"] <= 500, "a text over 500 characters was sent"
PY

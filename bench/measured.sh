#!/usr/bin/env bash
# `fangops cost --measured` on moto for one env with 14 days of hourly runs seeded in
# CloudWatch (every metric it reads, one datapoint an hour), side by side with what a
# user would otherwise script: one GetMetricStatistics call a metric, hourly
# (`aws cloudwatch get-metric-statistics` in a loop), summed by hand.
# Goal: one CloudWatch request for the whole window, whatever its length.
#   bench/measured.sh [DAYS]      DAYS=14; PROFILE=dev|release (default release)
set -euo pipefail
source "$(dirname "$0")/common.sh"
days=${1:-$(smoke 2 14)}
build_fangops
start_moto
project=$(new_project); trap 'rm -rf "$project"' EXIT
stack=fang-bench-measured
printf 'stack: %s\nregion: us-east-1\nendpoint_url: %s\nsentiment: comprehend\ncompanies: [A, B, C, D, E]\n' \
  "$stack" "$MOTO_ENDPOINT" > "$project/environments/e.yaml"
mkdir -p "$project/infra/pricing"
cp "$root/infra/pricing/us-east-1.yaml" "$project/infra/pricing/"

AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x AWS_DEFAULT_REGION=us-east-1 \
  "$venv/bin/python" - "$days" "$stack" "$FANGOPS" "$project" "$MOTO_ENDPOINT" <<'PY'
import datetime, json, subprocess, sys, time
import boto3

days, stack, fangops, project, endpoint = int(sys.argv[1]), *sys.argv[2:6]
cw = boto3.client("cloudwatch", endpoint_url=endpoint)
companies = 5
# (namespace, metric, dimension, value, per run)
metrics = [
    ("AWS/Lambda", "Invocations", "FunctionName", f"{stack}-producer", 1),
    ("AWS/Lambda", "Duration", "FunctionName", f"{stack}-producer", 310),
    ("AWS/Lambda", "Invocations", "FunctionName", f"{stack}-sentiment", 1),
    ("AWS/Lambda", "Duration", "FunctionName", f"{stack}-sentiment", companies * 900),
    ("AWS/SQS", "NumberOfMessagesSent", "QueueName", f"{stack}-companies", companies),
    ("AWS/SQS", "NumberOfMessagesReceived", "QueueName", f"{stack}-companies", companies),
    ("AWS/SQS", "NumberOfMessagesDeleted", "QueueName", f"{stack}-companies", companies),
    ("AWS/SQS", "NumberOfEmptyReceives", "QueueName", f"{stack}-companies", 40),
    ("fangops", "ResultsWritten", "Stack", stack, companies),
    ("fangops", "TextsAnalyzed", "Stack", stack, companies),
    ("fangops", "ComprehendUnits", "Stack", stack, companies * 5),
    ("fangops", "CharactersAnalyzed", "Stack", stack, companies * 470),
    ("fangops", "WikipediaRequests", "Stack", stack, companies),
    ("fangops", "ResultBytes", "Stack", stack, companies * 1800),
]
now = datetime.datetime.now(datetime.timezone.utc).replace(minute=0, second=0, microsecond=0)
hours = [now - datetime.timedelta(hours=h) for h in range(1, days * 24)]  # all inside the window
for ns, name, dim, value, v in metrics:
    data = [{"MetricName": name, "Dimensions": [{"Name": dim, "Value": value}],
             "Timestamp": t, "Value": v} for t in hours]
    for i in range(0, len(data), 1000):  # PutMetricData: at most 1,000 datums a call
        cw.put_metric_data(Namespace=ns, MetricData=data[i:i + 1000])

start = time.monotonic()
out = subprocess.run([fangops, "cost", "--env", "e", "--measured", "--days", str(days),
                      "--no-actual", "--json"], cwd=project, capture_output=True, text=True)
fangops_s = time.monotonic() - start
if out.returncode != 0:
    sys.exit(f"fangops cost failed: {out.stderr}")
m = json.loads(out.stdout)["measured"]
assert m["runs"] == len(hours), m

start = time.monotonic()
calls, runs = 0, 0.0
for ns, name, dim, value, _ in metrics:
    r = cw.get_metric_statistics(Namespace=ns, MetricName=name,
                                 Dimensions=[{"Name": dim, "Value": value}],
                                 StartTime=now - datetime.timedelta(days=days), EndTime=now,
                                 Period=3600, Statistics=["Sum"])
    calls += 1
    if (ns, name, value) == ("AWS/Lambda", "Invocations", f"{stack}-producer"):
        runs = sum(p["Sum"] for p in r["Datapoints"])
loop_s = time.monotonic() - start
assert runs == len(hours), runs

print(f"{days} days of hourly runs ({len(hours)} runs, {len(metrics)} metrics):")
print(f"  fangops cost --measured     {m['requests']:>3} CloudWatch request(s)  {fangops_s:6.2f} s  (the whole command)")
print(f"  GetMetricStatistics a metric {calls:>2} CloudWatch requests     {loop_s:6.2f} s  (the calls alone, boto3)")
PY

#!/usr/bin/env bash
# Company sync speed on moto, side by side in one run, each into its own empty table:
#   (a) the original's method: one boto3 PutItem per company,
#   (b) boto3's batch_writer (BatchWriteItem of 25, one call at a time),
#   (c) the emulator's floor: the same BatchWriteItem requests sent back to back by a
#       minimal client (pre-built bodies on one keep-alive connection, no SDK),
#   (d) `fangops sync` (a whole command: start, STS, scan, writes),
# then a no-change `fangops sync` of the same list, and peak memory of fangops for
# 100,000 companies (the load and the no-change sync).
# Goals: (d) at least 5x faster than (a), no slower than (b); no-change sync under 2 s;
# peak memory under 100 MB. moto builds a Scan answer at about 0.2 ms per item, so the
# no-change floor on moto is the Scan itself, printed beside it.
#   bench/sync.sh [N] [BIG]      N=10000 BIG=100000; PROFILE=dev|release (default release)
set -euo pipefail
source "$(dirname "$0")/common.sh"
n=${1:-$(smoke 50 10000)}
big=${2:-$(smoke 100 100000)}
build_fangops
start_moto
project=$(new_project); trap 'rm -rf "$project"' EXIT

env_file() { # NAME STACK COUNT
  {
    printf 'stack: %s\nregion: us-east-1\nendpoint_url: %s\nsentiment: vader\ntext_source: fixtures\ncompanies:\n' "$2" "$MOTO_ENDPOINT"
    "$venv/bin/python" -c "import sys; sys.stdout.write(''.join(f'  - Company {i:06d}\n' for i in range(int(sys.argv[1]))))" "$3"
  } > "$project/environments/$1.yaml"
}
env_file small fang-bench-sync "$n"
env_file big fang-bench-sync-big "$big"

AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x AWS_DEFAULT_REGION=us-east-1 \
  "$venv/bin/python" - "$n" "$big" "$PROFILE" "$FANGOPS" "$project" "$MOTO_ENDPOINT" <<'PY'
import http.client, json, os, subprocess, sys, time, urllib.parse
import boto3

n, big, profile, fangops, project, endpoint = int(sys.argv[1]), int(sys.argv[2]), *sys.argv[3:7]
ddb = boto3.client("dynamodb", endpoint_url=endpoint)
names = [f"Company {i:06d}" for i in range(n)]

def table(name):
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "company", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "company", "KeyType": "HASH"}])
    return name

def count(name):
    pages = ddb.get_paginator("scan").paginate(TableName=name, Select="COUNT")
    return sum(p["Count"] for p in pages)

def timed(f):
    start = time.monotonic(); f(); return time.monotonic() - start

HEADERS = {"Content-Type": "application/x-amz-json-1.0",
           "Authorization": "AWS4-HMAC-SHA256 Credential=x/20261130/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0"}

def put_each():
    t = table("bench-put-item")
    for name in names:
        ddb.put_item(TableName=t, Item={"company": {"S": name}})

def batch_writer():
    t = boto3.resource("dynamodb", endpoint_url=endpoint).Table(table("bench-batch-writer"))
    with t.batch_writer() as w:
        for name in names:
            w.put_item(Item={"company": name})

def floor():
    t = table("bench-floor")
    bodies = [json.dumps({"RequestItems": {t: [{"PutRequest": {"Item": {"company": {"S": c}}}}
                                               for c in names[i:i + 25]]}}).encode()
              for i in range(0, n, 25)]
    url = urllib.parse.urlparse(endpoint)
    conn = http.client.HTTPConnection(url.hostname, url.port)
    headers = {**HEADERS, "X-Amz-Target": "DynamoDB_20120810.BatchWriteItem"}
    for body in bodies:
        try:
            conn.request("POST", "/", body, headers)
            resp = conn.getresponse()
        except (http.client.HTTPException, ConnectionError):
            # moto closes the connection after every request: reconnect and resend.
            conn.close(); conn = http.client.HTTPConnection(url.hostname, url.port)
            conn.request("POST", "/", body, headers)
            resp = conn.getresponse()
        resp.read()
        assert resp.status == 200, resp.status

def scan_floor(t):
    # The one Scan a no-change sync needs, from a minimal client: what moto itself takes.
    url = urllib.parse.urlparse(endpoint)
    conn = http.client.HTTPConnection(url.hostname, url.port)
    body = json.dumps({"TableName": t, "ProjectionExpression": "#c",
                       "ExpressionAttributeNames": {"#c": "company"}}).encode()
    conn.request("POST", "/", body, {**HEADERS, "X-Amz-Target": "DynamoDB_20120810.Scan"})
    resp = conn.getresponse()
    page = json.loads(resp.read())
    assert resp.status == 200 and page["Count"] == n and "LastEvaluatedKey" not in page, page.keys()

def fangops_sync(env):
    cmd = [fangops, "-C", project, "sync", "--env", env, "--json"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                         env={**os.environ, "CI": "true"})
    return json.loads(out.stdout)

def peak_rss_mb(env):
    # A fresh child per measurement: ru_maxrss of RUSAGE_CHILDREN is the largest child.
    code = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
            "stdout=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code, fangops, "-C", project, "sync", "--env", env],
                         check=True, capture_output=True, text=True)
    return int(out.stdout) / 1024

a = timed(put_each)
b = timed(batch_writer)
c = timed(floor)
table("fang-bench-sync-companies")
d = timed(lambda: fangops_sync("small"))
for t in ["bench-put-item", "bench-batch-writer", "bench-floor", "fang-bench-sync-companies"]:
    assert count(t) == n, (t, count(t))
# Median of 3, alternating, so that both see the emulator in the same state.
es, fs = [], []
for _ in range(3):
    report = {}
    es.append(timed(lambda: report.update(fangops_sync("small"))))
    assert not report["added"] and not report["removed"], report
    fs.append(timed(lambda: scan_floor("fang-bench-sync-companies")))
e, f = sorted(es)[1], sorted(fs)[1]

table("fang-bench-sync-big-companies")
start = time.monotonic(); load_mb = peak_rss_mb("big"); load_s = time.monotonic() - start
assert count("fang-bench-sync-big-companies") == big
nochange_mb = peak_rss_mb("big")

print(f"sync ({profile} build, moto), {n:,} companies into an empty table:")
print(f"  (a) boto3 PutItem per company   {a:6.2f} s")
print(f"  (b) boto3 batch_writer          {b:6.2f} s")
print(f"  (c) emulator floor (raw batches){c:6.2f} s")
print(f"  (d) fangops sync                {d:6.2f} s  -> {a/d:.1f}x faster than (a), {b/d:.2f}x (b), {c/d:.2f}x the floor")
print(f"  no-change fangops sync          {e:6.2f} s  (median of 3; the emulator's one Scan alone: {f:.2f} s)")
print(f"  {big:,} companies: load {load_s:.1f} s, peak RSS {load_mb:.0f} MB; no-change sync peak RSS {nochange_mb:.0f} MB")
PY

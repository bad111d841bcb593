#!/usr/bin/env bash
# Deploy speed on moto, side by side in one run:
#   - a first create end to end (`fangops deploy` of a new stack, companies synced),
#   - a no-op: `fangops deploy` of the unchanged stack (fingerprint, no change set)
#     versus `aws cloudformation deploy` of the same template and parameters.
# Goal: fangops at least 10x faster on the no-op. The AWS CLI is installed into its own
# virtualenv (.venv-bench), so its botocore pin never disturbs moto's.
#   bench/deploy.sh [RUNS]        PROFILE=dev|release (default release)
set -euo pipefail
source "$(dirname "$0")/common.sh"
runs=${1:-$(smoke 1 5)}
build_fangops
start_moto
bench_venv="$root/.venv-bench"
# A smoke run leaves the AWS CLI out (a second virtualenv to install); the rest runs.
if [ -n "$SMOKE" ]; then bench_venv=$venv
elif [ ! -x "$bench_venv/bin/aws" ]; then
  python3 -m venv "$bench_venv"
  "$bench_venv/bin/pip" install -q "awscli==1.42.*"
fi
project=$(new_project); trap 'rm -rf "$project"' EXIT
printf 'stack: fang-bench-deploy\nregion: us-east-1\nendpoint_url: %s\nsentiment: vader\ntext_source: fixtures\ncompanies: [Amazon, Apple, Netflix]\n' \
  "$MOTO_ENDPOINT" > "$project/environments/bench.yaml"
deploy() { "$FANGOPS" -C "$project" deploy --env bench --artifacts "$project/artifacts" "$@"; }

start=$(now); deploy --json > "$project/create.json"; end=$(now)
create=$(python3 -c "print(f'{$end - $start:.2f}')")

# The no-ops, timed from one Python process so that both commands are started alike.
# The AWS CLI gets the same template and the parameters read back from the stack.
AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x "$bench_venv/bin/python" - "$create" "$PROFILE" "$runs" \
  "$FANGOPS" "$project" "$bench_venv/bin/aws" "$MOTO_ENDPOINT" "$SMOKE" <<'PY'
import statistics, subprocess, sys, time
import botocore.session
create, profile, runs, fangops, project, aws, endpoint, smoke = sys.argv[1:9]
cfn = botocore.session.get_session().create_client(
    "cloudformation", region_name="us-east-1", endpoint_url=endpoint)
params = cfn.describe_stacks(StackName="fang-bench-deploy")["Stacks"][0]["Parameters"]
overrides = [f"{p['ParameterKey']}={p['ParameterValue']}" for p in params]
fangops_cmd = [fangops, "-C", project, "deploy", "--env", "bench", "--artifacts", f"{project}/artifacts"]
aws_cmd = [aws, "--endpoint-url", endpoint, "--region", "us-east-1", "cloudformation", "deploy",
           "--template-file", f"{project}/infra/template.yaml", "--stack-name", "fang-bench-deploy",
           "--capabilities", "CAPABILITY_IAM", "--no-fail-on-empty-changeset",
           "--parameter-overrides", *overrides]
def timed(cmd):
    start = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - start
f, a = [], []
for _ in range(int(runs)):
    f.append(timed(fangops_cmd))
    if not smoke:
        a.append(timed(aws_cmd))
mf = statistics.median(f)
print(f"deploy ({profile} build, moto): first create end to end {create} s")
if smoke:
    print(f"no-op deploy: fangops {mf*1000:.0f} ms (smoke run: AWS CLI not compared)")
else:
    ma = statistics.median(a)
    print(f"no-op deploy, median of {runs}: fangops {mf*1000:.0f} ms, "
          f"aws cloudformation deploy {ma*1000:.0f} ms -> fangops {ma/mf:.1f}x faster")
PY

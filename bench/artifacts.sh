#!/usr/bin/env bash
# Lambda artifact sizes: builds the functions with the `lambda` profile (release,
# optimized for size) and prints each zip's size
# (goal: under 5 MB each; the original's pandas/numpy layer was about 40 MB).
set -euo pipefail
# fangops itself only drives cargo here, so its own (fast) dev build will do.
PROFILE=${PROFILE:-dev}
source "$(dirname "$0")/common.sh"
build_fangops
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
# A smoke run packages the debug build the test suite already has.
"$FANGOPS" -C "$root" build --profile "$(smoke dev lambda)" --out "$out" --json > "$out/report.json"
python3 - "$out/report.json" <<'PY'
import json, sys
for a in json.load(open(sys.argv[1]))["artifacts"]:
    print(f"{a['function']:<10} {a['size']/1048576:6.2f} MB zipped  sha256 {a['sha256'][:16]}…")
PY

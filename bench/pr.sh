#!/usr/bin/env bash
# The pull-request path of a company-only change, as the workflow runs it: a fresh
# clone, an empty target dir, the fangops binary restored from its cache, and an
# artifact bucket (on moto) that already indexes the Lambdas' zips; timed up to the
# rendered `fangops plan --comment`, with a stand-in `cargo` on PATH that records any
# call, so that "no compiler ran" is a measurement. Beside it, the cold figure: the
# same plan with nothing cached (the zips built from an empty target dir).
#   bench/pr.sh        LAMBDA_PROFILE=lambda|dev (default lambda: what CI builds)
set -euo pipefail
source "$(dirname "$0")/common.sh"
build_fangops
start_moto
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
lambda_profile=${LAMBDA_PROFILE:-$(smoke dev lambda)}
arch=$(uname -m); [ "$arch" = aarch64 ] && arch=arm64

# The binary "restored as the workflow restores it": a copy in a cache dir of its own.
mkdir -p "$work/cache/bin"; cp "$FANGOPS" "$work/cache/bin/fangops"
fangops_bin="$work/cache/bin/fangops"

# A clone of the committed repository with an env file for moto.
clone() {
  git clone -q "$root" "$1"
  {
    printf 'stack: fang-pr\nregion: us-east-1\nendpoint_url: %s\n' "$MOTO_ENDPOINT"
    printf 'sentiment: vader\ntext_source: fixtures\nlambda:\n  arch: %s\ncompanies:\n' "$arch"
    shift
    for c in "$@"; do echo "  - $c"; done
  } > "$1/environments/pr.yaml"
}

# A `cargo` that only notes that it was called.
mkdir -p "$work/shim"
printf '#!/bin/sh\necho "$@" >> "%s/cargo-calls"\nexit 1\n' "$work" > "$work/shim/cargo"
chmod +x "$work/shim/cargo"

plan() { # DIR TARGET_DIR [ENV...]: the timed plan, printing seconds
  local dir=$1 target=$2; shift 2
  local start end
  start=$(now)
  env "$@" CARGO_TARGET_DIR="$target" "$fangops_bin" -C "$dir" plan --env pr \
    --profile "$lambda_profile" --comment --comment-out "$dir/comment.md" >/dev/null 2>"$dir/plan.log" \
    || { cat "$dir/plan.log" >&2; exit 1; }
  end=$(now)
  python3 -c "print(f'{$end - $start:.1f}')"
}

# Cold: nothing cached; the plan builds both Lambdas from an empty target dir (in smoke
# mode the suite's warm target dir, so that the test stays short).
clone "$work/cold" Apple Netflix
cold_target=$(smoke "$CARGO_TARGET_DIR" "$work/cold-target")
cold=$(plan "$work/cold" "$cold_target")

# What main's deploy leaves: the zips in the bucket's index.
(cd "$work/cold" && CARGO_TARGET_DIR="$cold_target" "$fangops_bin" deploy --env pr \
  --profile "$lambda_profile" >/dev/null 2>&1)

# The pull request: one company added, in a new clone with an empty target dir.
clone "$work/pr" Apple Netflix Spotify
mkdir -p "$work/pr-target"
warm=$(plan "$work/pr" "$work/pr-target" PATH="$work/shim:$PATH" CARGO="$work/shim/cargo")
grep -q "Spotify" "$work/pr/comment.md"
compiled=$([ -s "$work/cargo-calls" ] && echo "cargo ran: $(head -1 "$work/cargo-calls")" || echo "no compiler ran")
built=$(find "$work/pr-target" -type f | wc -l)

echo "pull request, company-only change, to the rendered plan comment ($lambda_profile Lambdas, moto):"
printf "  warm (binary cached, zips indexed): %6s s   %s, %s files in the target dir   (goal: < 15 s, none)\n" "$warm" "$compiled" "$built"
printf "  cold (nothing cached):              %6s s   both Lambdas compiled%s\n" "$cold" "$(smoke ' (smoke: a warm target dir)' '')"

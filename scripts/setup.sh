#!/usr/bin/env bash
# Creates the project's virtualenv (.venv, git-ignored) with the pinned Python tools in
# scripts/requirements.txt. Idempotent: does nothing when the venv already matches.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="${FANGOPS_VENV:-$root/.venv}"
req="$root/scripts/requirements.txt"
stamp="$venv/.fangops-requirements"

if [ -x "$venv/bin/python" ] && cmp -s "$req" "$stamp"; then
  echo "setup: $venv is up to date"
  exit 0
fi

python=${PYTHON:-python3}
if ! command -v "$python" >/dev/null; then
  echo "setup: $python not found; install Python 3 (e.g. apt-get install python3 python3-venv)" >&2
  exit 1
fi
echo "setup: creating $venv with $(grep -v "^#" "$req" | tr "\n" " ")"
if ! "$python" -m venv "$venv"; then
  echo "setup: '$python -m venv' failed; on Debian install it with: apt-get install python3-venv" >&2
  exit 1
fi
"$venv/bin/python" -m pip install --disable-pip-version-check --quiet --upgrade pip
"$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r "$req"
cp "$req" "$stamp"
echo "setup: done"

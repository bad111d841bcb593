# Shared by the benchmark scripts: a private moto on a free port, stopped on exit.
#
# BENCH_SMOKE=1 runs a script at a tiny size, with the fangops binary named by
# FANGOPS_BIN (the test suite passes its own build), so that the suite runs every
# benchmark end to end and a benchmark that stopped working fails a test.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="${FANGOPS_VENV:-$root/.venv}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
SMOKE="${BENCH_SMOKE:-}"
if [ -n "$SMOKE" ]; then PROFILE="${PROFILE:-dev}"; else PROFILE="${PROFILE:-release}"; fi
# smoke SMALL FULL: the size to use.
smoke() { if [ -n "$SMOKE" ]; then echo "$1"; else echo "$2"; fi; }

start_moto() {
  "$root/scripts/setup.sh" >/dev/null
  local fifo
  fifo=$(mktemp -u); mkfifo "$fifo"
  # --lifeline: moto stops when this script's end of the pipe closes.
  exec 9> >("$venv/bin/python" "$root/scripts/moto_server.py" --port 0 --lifeline >"$fifo" 2>/dev/null)
  read -r line < "$fifo"; rm -f "$fifo"
  MOTO_ENDPOINT=${line#moto listening on }
  export AWS_ENDPOINT_URL=$MOTO_ENDPOINT
}

# standin SCRIPT ARGS...: starts a stand-in server (bench/*_standin.py), sets
# $standin_url to the address it prints. stop_standins (for an EXIT trap) stops only
# the ones this script started: the suite runs several benchmarks at once, and a
# `pkill -f` by name would stop another's.
standin_pids=()
standin() {
  local fifo line; fifo=$(mktemp -u); mkfifo "$fifo"
  python3 "$@" 2>/dev/null > "$fifo" &
  standin_pids+=("$!")
  read -r line < "$fifo"; rm -f "$fifo"
  standin_url=${line##* on }
}
stop_standins() { if [ ${#standin_pids[@]} -gt 0 ]; then kill "${standin_pids[@]}" 2>/dev/null || true; fi; }

build_fangops() {
  if [ -n "${FANGOPS_BIN:-}" ]; then FANGOPS=$FANGOPS_BIN; return; fi
  cargo build -q --locked --profile "$PROFILE" --bin fangops
  local dir=$PROFILE; [ "$PROFILE" = dev ] && dir=debug
  FANGOPS="$CARGO_TARGET_DIR/$dir/fangops"
}

now() { python3 -c 'import time; print(time.monotonic())'; }

# Stand-in Lambda zips for deploys on moto, which stores function code without running
# it (the local runner drives the handlers in-process). Each `bootstrap` is an ELF
# header for arm64 (an env file's default architecture) that needs no glibc, so that
# fangops's checks of a zip pass; the function's name makes the two distinct.
fake_artifacts() {
  local dir=$1
  mkdir -p "$dir"
  python3 - "$dir" <<'PY'
import struct, sys, zipfile
for name in ("producer", "sentiment"):
    # e_ident (64-bit, little-endian), ET_EXEC, EM_AARCH64 (183), no section headers.
    elf = b"\x7fELF\x02\x01\x01" + b"\0" * 9 + struct.pack("<HH", 2, 183) + b"\0" * 44
    info = zipfile.ZipInfo("bootstrap", date_time=(1980, 1, 1, 0, 0, 0))
    info.external_attr = 0o100755 << 16
    with zipfile.ZipFile(f"{sys.argv[1]}/{name}.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(info, elf + name.encode())
PY
}

# A scratch project: the repository's template and an environments/ folder.
new_project() {
  local dir
  dir=$(mktemp -d)
  mkdir -p "$dir/environments" "$dir/infra"
  cp "$root/infra/template.yaml" "$dir/infra/"
  fake_artifacts "$dir/artifacts"
  echo "$dir"
}

#!/usr/bin/env bash
# Starts and stops the local AWS emulator (moto) for the demo and for manual use.
#   scripts/moto.sh start    start on 127.0.0.1:$MOTO_PORT (default 4566), wait until it
#                            answers, write .moto/moto.pid
#   scripts/moto.sh stop     stop the server by that PID
#   scripts/moto.sh status
# The integration tests do not use this script: they start their own server on a free port.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="${FANGOPS_VENV:-$root/.venv}"
port="${MOTO_PORT:-4566}"
state="$root/.moto"
pidfile="$state/moto.pid"
portfile="$state/moto.port"
log="$state/moto.log"

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
# The port the running server was started on (a server started with another MOTO_PORT
# is no use to a caller that will talk to $port).
running_port() { cat "$portfile" 2>/dev/null || echo unknown; }

answers() {
  "$venv/bin/python" - "$port" <<'PY'
import sys, urllib.request
try:
    urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/moto-api/", timeout=1)
except Exception:
    sys.exit(1)
PY
}

case "${1:-}" in
  start)
    if running; then
      # A server started before the port was recorded: it is the one asked for if it
      # answers there.
      if [ ! -f "$portfile" ] && answers; then echo "$port" > "$portfile"; fi
      if [ "$(running_port)" = "$port" ]; then
        echo "moto: already running (pid $(cat "$pidfile"), port $port)"; exit 0
      fi
      echo "moto: already running on port $(running_port) (pid $(cat "$pidfile")), not $port: 'make moto-stop' first, or set MOTO_PORT=$(running_port)" >&2
      exit 1
    fi
    [ -x "$venv/bin/python" ] || { echo "moto: $venv missing; run 'make setup' first" >&2; exit 1; }
    if answers; then echo "moto: port $port is already taken by another process; set MOTO_PORT" >&2; exit 1; fi
    mkdir -p "$state"
    nohup "$venv/bin/python" "$root/scripts/moto_server.py" --host 127.0.0.1 --port "$port" >"$log" 2>&1 &
    echo $! > "$pidfile"
    echo "$port" > "$portfile"
    for _ in $(seq 1 100); do
      if answers; then echo "moto: listening on http://127.0.0.1:$port (pid $(cat "$pidfile"))"; exit 0; fi
      running || { echo "moto: failed to start; see $log" >&2; tail -5 "$log" >&2; rm -f "$pidfile"; exit 1; }
      sleep 0.1
    done
    echo "moto: did not answer within 10 s; see $log" >&2
    exit 1
    ;;
  stop)
    if running; then
      pid=$(cat "$pidfile"); kill "$pid"
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
      echo "moto: stopped (pid $pid)"
    else
      echo "moto: not running"
    fi
    rm -f "$pidfile" "$portfile"
    ;;
  status)
    if running; then echo "moto: running (pid $(cat "$pidfile"), port $(running_port))"; else echo "moto: not running"; exit 1; fi
    ;;
  *)
    echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac

"""Runs moto (the AWS emulator) in server mode on a loopback port.

Used two ways:
  * by scripts/moto.sh for the demo: a fixed port, runs until SIGTERM;
  * by the integration tests: `--port 0` picks a free port (no race with other test
    runs), the first stdout line says which, and `--lifeline` stops the server when
    stdin closes, i.e. when the test process exits, whether its tests passed, failed
    or it was killed.
"""

import argparse
import signal
import sys
import threading

from moto.moto_server.threaded_moto_server import ThreadedMotoServer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4566)
    parser.add_argument("--lifeline", action="store_true",
                        help="exit when stdin reaches end of file")
    args = parser.parse_args()

    server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    print(f"moto listening on http://{host}:{port}", flush=True)

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    if args.lifeline:
        threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    done.wait()
    server.stop()


if __name__ == "__main__":
    main()

"""Cold-start proxy: time from exec of a function's `bootstrap` binary to its first
request to the Lambda Runtime API, served here by a stub on loopback. Prints the median
and spread over repeated runs. (Goal: under 20 ms median; the original's Python with
pandas took seconds to import.)

    python3 bench/coldstart.py path/to/bootstrap [runs]

The binary is killed as soon as it asks for its first event, so no AWS call is made.
It gets every setting the template gives the functions: a binary that exits before
its first request (a missing setting) fails the benchmark instead of timing nothing.
"""

import http.server
import os
import statistics
import subprocess
import sys
import threading
import time

first_request = threading.Event()
arrived_at = [0.0]


class Stub(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # /2018-06-01/runtime/invocation/next
        arrived_at[0] = time.monotonic()
        first_request.set()
        self.send_response(503)
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    binary = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(os.environ,
               AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{server.server_port}",
               AWS_LAMBDA_FUNCTION_NAME="bench", AWS_LAMBDA_FUNCTION_MEMORY_SIZE="256",
               AWS_LAMBDA_FUNCTION_VERSION="1", AWS_REGION="us-east-1",
               AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
               TABLE_NAME="t", QUEUE_URL="http://127.0.0.1:9/q", RESULTS_BUCKET="b",
               TEXT_SOURCE="fixtures", ANALYZER="vader", STACK_NAME="fang-bench")
    times = []
    for _ in range(runs):
        first_request.clear()
        start = time.monotonic()
        proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = start + 10
        while not first_request.wait(0.005):
            if proc.poll() is not None:
                sys.exit(f"{binary} exited ({proc.returncode}) before its first Runtime API "
                         f"request: {proc.stderr.read().decode(errors='replace').strip()}")
            if time.monotonic() > deadline:
                proc.kill()
                sys.exit(f"{binary} made no Runtime API request within 10 s")
        times.append((arrived_at[0] - start) * 1000)
        proc.kill()
        proc.wait()
        proc.stderr.close()
    times.sort()
    print(f"{os.path.basename(binary)}: exec to first Runtime API request "
          f"median {statistics.median(times):.1f} ms, min {times[0]:.1f} ms, "
          f"p90 {times[int(len(times) * 0.9) - 1]:.1f} ms over {runs} runs")


if __name__ == "__main__":
    main()

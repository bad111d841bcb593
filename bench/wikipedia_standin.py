"""A stand-in for Wikipedia's REST summary endpoint on loopback, for benchmarks: each
page `/page/summary/<title>` answers its text with an ETag, and 304 Not Modified (no
body) to a request whose If-None-Match names the current one, as Wikimedia's APIs do.
POST /change?share=S gives a new text (and ETag) to that share of the pages seen so
far; GET /stats gives the requests, the 304s and the body bytes sent. Prints its
address, then serves until killed.

    python3 bench/wikipedia_standin.py
"""

import http.server
import json
import threading
import urllib.parse

lock = threading.Lock()
versions = {}
stats = {"requests": 0, "not_modified": 0, "body_bytes": 0}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def send(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/stats":
            with lock:
                body = json.dumps(stats).encode()
            return self.send(200, body, [("Content-Type", "application/json")])
        title = urllib.parse.unquote(self.path.rsplit("/", 1)[-1]).replace("_", " ")
        with lock:
            version = versions.setdefault(title, 1)
            stats["requests"] += 1
            etag = f'W/"{abs(hash(title)) % 10**9}-{version}"'
            if self.headers.get("If-None-Match") == etag:
                stats["not_modified"] += 1
                return self.send(304, headers=[("ETag", etag)])
            text = (f"{title} is a company with excellent products and loyal customers. "
                    f"This is revision {version} of its summary, which says a little more about it.")
            body = json.dumps({"type": "standard", "title": title, "extract": text,
                               "content_urls": {"desktop": {"page": f"https://en.wikipedia.org/wiki/{title}"}}}).encode()
            stats["body_bytes"] += len(body)
        self.send(200, body, [("Content-Type", "application/json"), ("ETag", etag)])

    def do_POST(self):
        share = float(urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)["share"][0])
        with lock:
            titles = sorted(versions)
            changed = titles[: round(len(titles) * share)]
            for t in changed:
                versions[t] += 1
        self.send(200, json.dumps({"changed": len(changed)}).encode())

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"wikipedia stand-in on http://127.0.0.1:{server.server_address[1]}", flush=True)
server.serve_forever()

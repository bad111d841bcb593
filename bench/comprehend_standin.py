"""A stand-in for Amazon Comprehend's sentiment API on loopback, for benchmarks: moto
has no BatchDetectSentiment. Every THROTTLE_EVERY-th call is refused with
ThrottlingException, as Comprehend does past its rate; the others are answered with a
sentiment from word counts. Prints its address, then serves until killed; GET /stats
gives the calls, throttles and the longest text received.

    python3 bench/comprehend_standin.py [THROTTLE_EVERY]
"""

import http.server
import json
import sys
import threading

THROTTLE_EVERY = int(sys.argv[1]) if len(sys.argv) > 1 else 5
lock = threading.Lock()
stats = {"calls": 0, "throttled": 0, "documents": 0, "longest_text": 0}
GOOD = {"excellent", "strong", "loyal", "success", "delighted", "awards", "praise"}
BAD = {"poor", "lawsuit", "terrible", "scandal", "fell", "criticized"}


def sentiment(text):
    words = {w.strip(".,;").lower() for w in text.split()}
    good, bad = len(words & GOOD), len(words & BAD)
    label = "MIXED" if good and bad else "POSITIVE" if good else "NEGATIVE" if bad else "NEUTRAL"
    pos, neg = 0.2 + 0.2 * good, 0.2 + 0.2 * bad
    total = pos + neg + 0.5
    return label, {"Positive": pos / total, "Negative": neg / total, "Neutral": 0.5 / total, "Mixed": 0.0}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        with lock:
            self.reply(200, dict(stats))

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        target = self.headers.get("X-Amz-Target", "")
        texts = body["TextList"] if "TextList" in body else [body.get("Text", "")]
        with lock:
            stats["calls"] += 1
            throttle = stats["calls"] % THROTTLE_EVERY == 0
            if throttle:
                stats["throttled"] += 1
            else:
                stats["documents"] += len(texts)
            stats["longest_text"] = max([stats["longest_text"]] + [len(t) for t in texts])
        if throttle:
            return self.reply(400, {"__type": "ThrottlingException", "message": "Rate exceeded"})
        if target.endswith("BatchDetectSentiment"):
            results = []
            for i, t in enumerate(texts):
                label, scores = sentiment(t)
                results.append({"Index": i, "Sentiment": label, "SentimentScore": scores})
            return self.reply(200, {"ResultList": results, "ErrorList": []})
        label, scores = sentiment(texts[0])
        return self.reply(200, {"Sentiment": label, "SentimentScore": scores})

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"comprehend stand-in on http://127.0.0.1:{server.server_port}", flush=True)
server.serve_forever()

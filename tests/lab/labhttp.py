#!/usr/bin/python3
"""Two tiny HTTP servers the lab runs inside its namespaces (stdlib only).

  labhttp.py webhook --listen 127.0.0.1:9099 --out FILE
      Alertmanager's webhook receiver: appends every POSTed JSON body to FILE, one compact
      JSON document per line, so `lab wait-alert` can follow what was notified.

  labhttp.py standin --listen 192.0.2.10:18472 --node NAME
      A stand-in scrape target used only while no podpath exporter binary exists: serves
      /metrics with a single info series, so the Prometheus side of the lab can be tested.
"""
import argparse
import http.server
import json
import sys
import threading


def split_listen(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


class Webhook(http.server.BaseHTTPRequestHandler):
    out = None
    lock = threading.Lock()

    def do_POST(self):  # noqa: N802 - http.server hook
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        try:
            line = json.dumps(json.loads(body), separators=(",", ":"), sort_keys=True)
        except ValueError:
            # Keep what arrived even if it is not JSON, so a broken sender is visible.
            line = json.dumps({"invalid_body": body.decode("utf-8", "replace")})
        with self.lock, open(self.out, "a", encoding="utf-8") as f:
            f.write(line + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, fmt, *args):
        sys.stderr.write("webhook: " + fmt % args + "\n")


class Standin(http.server.BaseHTTPRequestHandler):
    node = ""

    def do_GET(self):  # noqa: N802 - http.server hook
        if self.path.split("?", 1)[0] != "/metrics":
            self.send_error(404)
            return
        body = (
            "# HELP podpath_lab_standin_info A lab stand-in target: no podpath exporter was built.\n"
            "# TYPE podpath_lab_standin_info gauge\n"
            'podpath_lab_standin_info{node="%s"} 1\n' % self.node
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="mode", required=True)
    w = sub.add_parser("webhook")
    w.add_argument("--listen", required=True)
    w.add_argument("--out", required=True)
    s = sub.add_parser("standin")
    s.add_argument("--listen", required=True)
    s.add_argument("--node", required=True)
    args = ap.parse_args()
    if args.mode == "webhook":
        Webhook.out = args.out
        handler = Webhook
    else:
        Standin.node = args.node
        handler = Standin
    server = http.server.ThreadingHTTPServer(split_listen(args.listen), handler)
    server.serve_forever()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A WHEP server front for tests/e2e_ingress.rs that hands out a session URL on another
origin, and logs the Authorization header of every request it gets.

Usage: whep_origin_proxy.py UPSTREAM_WHEP_URL OTHER_HOST

Two HTTP servers: origin A on 127.0.0.1 (the URL the mixer is configured with) and
origin B on OTHER_HOST (another loopback address). A POST to A is forwarded to the real
WHEP endpoint UPSTREAM_WHEP_URL (a `webrtc` crate server: the SDP answer is real, so the
session really starts), and answered with its answer and an absolute
`Location: http://OTHER_HOST:B/session/N`. B answers 200 to anything (the session's
DELETE). Each request is one JSON line on stdout:
{"origin": "A"|"B", "method": ..., "path": ..., "authorization": value or null}.
The first line is {"a": PORT_A, "b": PORT_B}.
"""

import http.server
import json
import sys
import threading
import urllib.request

UPSTREAM = sys.argv[1]
OTHER_HOST = sys.argv[2]
LOCK = threading.Lock()
PORTS = {}


def log(origin, handler):
    with LOCK:
        line = {
            "origin": origin,
            "method": handler.command,
            "path": handler.path,
            "authorization": handler.headers.get("Authorization"),
        }
        print(json.dumps(line), flush=True)


class A(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        log("A", self)
        n = int(self.headers.get("Content-Length", "0"))
        offer = self.rfile.read(n)
        req = urllib.request.Request(
            UPSTREAM, data=offer, method="POST",
            headers={"Content-Type": "application/sdp"})
        with urllib.request.urlopen(req, timeout=10) as r:
            answer = r.read()
        self.send_response(201)
        self.send_header("Content-Type", "application/sdp")
        self.send_header("Location", "http://%s:%d/session/1" % (OTHER_HOST, PORTS["b"]))
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def do_DELETE(self):
        log("A", self)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class B(http.server.BaseHTTPRequestHandler):
    def answer(self):
        log("B", self)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = do_DELETE = do_PATCH = answer

    def log_message(self, *args):
        pass


def main():
    a = http.server.ThreadingHTTPServer(("127.0.0.1", 0), A)
    b = http.server.ThreadingHTTPServer((OTHER_HOST, 0), B)
    PORTS["a"] = a.server_address[1]
    PORTS["b"] = b.server_address[1]
    print(json.dumps(PORTS), flush=True)
    threading.Thread(target=b.serve_forever, daemon=True).start()
    a.serve_forever()


if __name__ == "__main__":
    main()

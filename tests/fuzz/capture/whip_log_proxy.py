#!/usr/bin/env python3
"""Logging HTTP proxy for WHIP/WHEP exchanges (capture of fuzz seeds, see docs/FUZZING.md).

Usage: whip_log_proxy.py PORT UPSTREAM OUTDIR
Listens on 127.0.0.1:PORT and forwards every POST/DELETE/PATCH/OPTIONS to UPSTREAM (e.g.
http://127.0.0.1:8480) with the same path, headers and body. For exchange N it writes
OUTDIR/N-request.txt (method, path, headers), N-request.body (the raw body: an SDP offer),
N-response.txt (status, headers) and N-response.body (the raw body: an SDP answer).
"""
import http.client, http.server, os, sys, urllib.parse

PORT, UPSTREAM, OUT = int(sys.argv[1]), urllib.parse.urlsplit(sys.argv[2]), sys.argv[3]
os.makedirs(OUT, exist_ok=True)
HOP = {'connection', 'keep-alive', 'transfer-encoding', 'host', 'content-length'}


class Proxy(http.server.BaseHTTPRequestHandler):
    n = 0

    def relay(self):
        Proxy.n += 1
        p = os.path.join(OUT, '%d-' % Proxy.n)
        body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
        with open(p + 'request.txt', 'w') as f:
            f.write('%s %s\n%s' % (self.command, self.path, self.headers))
        with open(p + 'request.body', 'wb') as f:
            f.write(body)
        c = http.client.HTTPConnection(UPSTREAM.hostname, UPSTREAM.port, timeout=20)
        h = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        c.request(self.command, self.path, body=body, headers=h)
        r = c.getresponse()
        rbody = r.read()
        with open(p + 'response.txt', 'w') as f:
            f.write('%d %s\n%s' % (r.status, r.reason, r.msg))
        with open(p + 'response.body', 'wb') as f:
            f.write(rbody)
        print('%s %s -> %d (%d/%d bytes)' % (self.command, self.path, r.status, len(body),
                                              len(rbody)), flush=True)
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in HOP:
                self.send_header(k, v)
        self.send_header('Content-Length', str(len(rbody)))
        self.end_headers()
        self.wfile.write(rbody)

    do_POST = do_DELETE = do_PATCH = do_OPTIONS = relay


http.server.ThreadingHTTPServer(('127.0.0.1', PORT), Proxy).serve_forever()

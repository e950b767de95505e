#!/usr/bin/env python3
"""A round-robin HTTP load balancer for the e2e tests (loopback only).

    lb.py LISTEN_PORT BACKEND_PORT...

Stands for the one public webhook URL in front of several `mlc run`
processes: each request goes to the next backend in turn; a backend that
refuses the connection (a killed daemon) is skipped and the next one tried,
as a proxy's "next upstream" does. When none answers, 502. Bodies and the
headers that matter (signatures, content type) pass through unchanged; the
answer is relayed as is. Prints "listening" once it serves, and one line
per request to stderr ("-> PORT STATUS").
"""
import http.client
import http.server
import itertools
import sys
import threading

BACKENDS = [int(p) for p in sys.argv[2:]]
_next = itertools.cycle(range(len(BACKENDS)))
_lock = threading.Lock()
HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}


def pick_order():
    with _lock:
        first = next(_next)
    return [BACKENDS[(first + i) % len(BACKENDS)] for i in range(len(BACKENDS))]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # one line per request, below
        pass

    def relay(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        for port in pick_order():
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
            except OSError:
                conn.close()
                continue
            conn.close()
            sys.stderr.write("-> %d %d\n" % (port, resp.status))
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in HOP:
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        sys.stderr.write("-> none 502\n")
        self.send_response(502)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = relay
    do_POST = relay


def main():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    srv.daemon_threads = True
    print("listening", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()

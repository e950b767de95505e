#!/usr/bin/env python3
"""A round-robin HTTP load balancer for bench/scale.sh: the one public
webhook URL in front of several `mlc run` processes, as a retailer deploys
them (docs/architecture.md, "Several processes on one store").

    bench/lb.py READY_FILE BACKEND_PORT...

Listens on 127.0.0.1 (a free port), writes "port=N" to READY_FILE, and
forwards each request (method, path, headers, body) to the next backend in
turn on 127.0.0.1, relaying the answer. A backend that refuses the
connection is skipped for that request, as a balancer's health check would
take it out. GET /__lb/stats (answered here, never forwarded) gives the
requests each backend answered: {"PORT": N, ..., "failed": N}. Loopback
only; meant for a few hundred requests a second, not for production.
"""
import http.client
import http.server
import json
import os
import sys
import threading

HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te",
       "trailer", "upgrade", "host", "content-length"}


class Balancer:
    def __init__(self, ports):
        self.ports = ports
        self.next = 0
        self.lock = threading.Lock()
        self.stats = {str(p): 0 for p in ports}
        self.stats["failed"] = 0

    def order(self):
        """The backends to try for one request, starting with the next in turn."""
        with self.lock:
            i = self.next
            self.next = (self.next + 1) % len(self.ports)
        return self.ports[i:] + self.ports[:i]

    def count(self, key):
        with self.lock:
            self.stats[key] += 1


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_):
        pass

    def relay(self):
        lb = self.server.lb
        if self.command == "GET" and self.path == "/__lb/stats":
            with lb.lock:
                self.answer(200, [("Content-Type", "application/json")],
                            json.dumps(lb.stats).encode())
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        for port in lb.order():
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                r = conn.getresponse()
                data = r.read()
            except ConnectionRefusedError:
                continue
            except (OSError, http.client.HTTPException):
                break
            finally:
                conn.close()
            lb.count(str(port))
            self.answer(r.status, [(k, v) for k, v in r.getheaders() if k.lower() not in HOP],
                        data)
            return
        lb.count("failed")
        self.answer(502, [("Content-Type", "text/plain")], b"no backend answered\n")

    def answer(self, status, headers, data):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = relay


def main():
    ready, ports = sys.argv[1], [int(p) for p in sys.argv[2:]]
    if not ports:
        sys.exit("usage: bench/lb.py READY_FILE BACKEND_PORT...")
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.lb = Balancer(ports)
    with open(ready + ".tmp", "w") as f:
        f.write("port=%d\n" % srv.server_address[1])
    os.rename(ready + ".tmp", ready)
    srv.serve_forever()


if __name__ == "__main__":
    main()

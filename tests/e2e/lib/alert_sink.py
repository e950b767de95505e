#!/usr/bin/env python3
"""A receiver for the alert channels of tests/e2e/alerts.sh, on 127.0.0.1.

HTTPS webhook: POST /services/<token> with a JSON body; each body is saved
as DIR/hook-N.json (404 for any other path, so a wrong URL is seen).
SMTP: STARTTLS is required before AUTH and MAIL (530 otherwise), AUTH PLAIN
and LOGIN are checked against --user/--password, each message is saved as
DIR/mail-N.eml with DIR/mail-N.json (envelope, tls, authenticated user).
Both use the certificate given (self-signed, made by the test). The ports
go to the ready file as "hook=P" and "smtp=P" lines.
"""
import argparse
import base64
import http.server
import json
import os
import socketserver
import ssl
import threading

lock = threading.Lock()


def save(directory, prefix, ext, data, meta=None):
    with lock:
        n = 1 + len([f for f in os.listdir(directory)
                     if f.startswith(prefix + "-") and f.endswith(ext)])
        path = os.path.join(directory, "%s-%d%s" % (prefix, n, ext))
        if meta is not None:
            with open(path[: -len(ext)] + ".json", "w") as f:
                json.dump(meta, f)
        with open(path + ".tmp", "wb") as f:
            f.write(data)
        os.rename(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--hook-port", type=int, default=0)
    ap.add_argument("--smtp-port", type=int, default=0)
    ap.add_argument("--ready", required=True)
    a = ap.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path != "/services/" + a.token:
                self.send_response(404)
                self.end_headers()
                return
            try:
                json.loads(body)
            except ValueError:
                self.send_response(400)
                self.end_headers()
                return
            save(a.dir, "hook", ".json", body)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    class HookServer(http.server.ThreadingHTTPServer):
        allow_reuse_address = True
        daemon_threads = True

        def get_request(self):
            sock, addr = super().get_request()
            return ctx.wrap_socket(sock, server_side=True), addr

    class Smtp(socketserver.StreamRequestHandler):
        def send(self, line):
            self.wfile.write((line + "\r\n").encode())
            self.wfile.flush()

        def readline(self):
            line = self.rfile.readline(65536)
            if not line:
                raise EOFError
            return line.decode("utf-8", "replace").rstrip("\r\n")

        def check(self, user, password):
            ok = user == a.user and password == a.password
            if ok:
                self.user = user
            self.send("235 ok" if ok else "535 authentication failed")

        def handle(self):
            self.tls, self.user, rcpt, sender = False, None, [], None
            self.send("220 sink ESMTP")
            try:
                while True:
                    line = self.readline()
                    verb = line.split(" ", 1)[0].upper()
                    if verb in ("EHLO", "HELO"):
                        ext = ["AUTH PLAIN LOGIN"] if self.tls else ["STARTTLS"]
                        for x in ["sink"] + ext[:-1]:
                            self.send("250-" + x)
                        self.send("250 " + ext[-1])
                    elif verb == "STARTTLS" and not self.tls:
                        self.send("220 go ahead")
                        self.connection = ctx.wrap_socket(self.connection, server_side=True)
                        self.rfile = self.connection.makefile("rb")
                        self.wfile = self.connection.makefile("wb")
                        self.tls = True
                    elif verb == "AUTH":
                        if not self.tls:
                            self.send("530 Must issue a STARTTLS command first")
                            continue
                        parts = line.split(" ")
                        if parts[1].upper() == "PLAIN":
                            raw = parts[2] if len(parts) > 2 else None
                            if raw is None:
                                self.send("334 ")
                                raw = self.readline()
                            _, user, password = base64.b64decode(raw).decode().split("\0")
                            self.check(user, password)
                        elif parts[1].upper() == "LOGIN":
                            if len(parts) > 2:
                                user = base64.b64decode(parts[2]).decode()
                            else:
                                self.send("334 VXNlcm5hbWU6")
                                user = base64.b64decode(self.readline()).decode()
                            self.send("334 UGFzc3dvcmQ6")
                            password = base64.b64decode(self.readline()).decode()
                            self.check(user, password)
                        else:
                            self.send("504 unknown mechanism")
                    elif verb == "MAIL":
                        if not self.tls:
                            self.send("530 Must issue a STARTTLS command first")
                        elif self.user is None:
                            self.send("530 Authentication required")
                        else:
                            sender, rcpt = line[10:].split(" ")[0], []
                            self.send("250 ok")
                    elif verb == "RCPT":
                        rcpt.append(line[8:].split(" ")[0])
                        self.send("250 ok")
                    elif verb == "DATA":
                        self.send("354 go ahead")
                        data = []
                        while True:
                            raw = self.rfile.readline(65536)
                            if raw in (b".\r\n", b".\n", b""):
                                break
                            data.append(raw[1:] if raw.startswith(b"..") else raw)
                        save(a.dir, "mail", ".eml", b"".join(data),
                             {"from": sender, "rcpt": rcpt, "tls": self.tls, "user": self.user})
                        self.send("250 queued")
                    elif verb in ("RSET", "NOOP"):
                        self.send("250 ok")
                    elif verb == "QUIT":
                        self.send("221 bye")
                        return
                    else:
                        self.send("502 not implemented")
            except (EOFError, ConnectionError, ssl.SSLError, ValueError):
                return

    class SmtpServer(socketserver.ThreadingTCPServer):
        allow_reuse_address = True
        daemon_threads = True

    hook = HookServer(("127.0.0.1", a.hook_port), Hook)
    smtp = SmtpServer(("127.0.0.1", a.smtp_port), Smtp)
    for s in (hook, smtp):
        threading.Thread(target=s.serve_forever, daemon=True).start()
    with open(a.ready + ".tmp", "w") as f:
        f.write("hook=%d\nsmtp=%d\n" % (hook.server_address[1], smtp.server_address[1]))
    os.rename(a.ready + ".tmp", a.ready)
    threading.Event().wait()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Slow-client attacker for tests/e2e/slowclients.sh (loopback only).

  slowclients.py headers PORT SRC CONNS SECONDS INTERVAL OUT
      Keeps CONNS connections from the local address SRC to 127.0.0.1:PORT.
      Each sends a request line, then one header line every INTERVAL seconds
      and never ends its headers. A connection the server closes (or refuses)
      is opened again, at most once per INTERVAL. On SIGTERM, or after
      SECONDS at most, writes to OUT: {"opened", "closed_by_server",
      "connect_failed", "answered", "open_at_end"}.

  slowclients.py body PORT SRC LENGTH SECONDS INTERVAL OUT
      One POST from SRC declaring a LENGTH-byte body, sent one byte every
      INTERVAL seconds, for at most SECONDS. Writes to OUT: {"closed" (by
      the server), "after_s" (from connect), "sent" (body bytes), "reply"
      (what the server sent, as text)}.
"""
import json
import select
import signal
import socket
import sys
import time

STOP = []


def connect(port, src):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((src, 0))
        s.settimeout(5)
        s.connect(("127.0.0.1", port))
        s.setblocking(False)
    except OSError:
        s.close()
        raise
    return s


def poll_closed(s):
    """(closed by the server, bytes it sent) without blocking."""
    data = b""
    try:
        while select.select([s], [], [], 0)[0]:
            chunk = s.recv(4096)
            if not chunk:
                return True, data
            data += chunk
    except OSError:
        return True, data
    return False, data


def headers(port, src, conns, seconds, interval, out):
    st = {"opened": 0, "closed_by_server": 0, "connect_failed": 0, "answered": 0}
    socks = [None] * conns
    retry_at = [0.0] * conns
    end = time.monotonic() + seconds
    line = 0
    signal.signal(signal.SIGTERM, lambda *_: STOP.append(1))
    while time.monotonic() < end and not STOP:
        now = time.monotonic()
        for k in range(conns):
            s = socks[k]
            if s is None:
                if now < retry_at[k]:
                    continue
                retry_at[k] = now + interval
                try:
                    s = connect(port, src)
                    s.send(b"GET /healthz HTTP/1.1\r\nHost: mlc\r\n")
                except OSError:
                    st["connect_failed"] += 1
                    continue
                socks[k] = s
                st["opened"] += 1
                continue
            closed, data = poll_closed(s)
            if data:
                st["answered"] += 1
            if not closed:
                try:
                    s.send(b"X-Slow-%d: %d\r\n" % (line, k))
                except OSError:
                    closed = True
            if closed:
                st["closed_by_server"] += 1
                s.close()
                socks[k] = None
        line += 1
        time.sleep(interval)
    st["open_at_end"] = sum(1 for s in socks if s is not None)
    for s in socks:
        if s is not None:
            s.close()
    with open(out, "w") as f:
        json.dump(st, f)


def body(port, src, length, seconds, interval, out):
    t0 = time.monotonic()
    res = {"closed": False, "after_s": 0.0, "sent": 0, "reply": ""}
    reply = b""
    s = connect(port, src)
    s.send(b"POST /webhooks/bigcommerce HTTP/1.1\r\nHost: mlc\r\n"
           b"Content-Type: application/json\r\n"
           b"Content-Length: %d\r\n\r\n" % length)
    while time.monotonic() - t0 < seconds and res["sent"] < length:
        time.sleep(interval)
        closed, data = poll_closed(s)
        reply += data
        if not closed:
            try:
                s.send(b"{" if res["sent"] == 0 else b" ")
                res["sent"] += 1
            except OSError:
                closed = True
        if closed:
            res["closed"] = True
            break
    res["after_s"] = round(time.monotonic() - t0, 1)
    res["reply"] = reply.decode("latin-1")
    s.close()
    with open(out, "w") as f:
        json.dump(res, f)


def main(argv):
    mode, port, src, n, seconds, interval, out = argv[1:8]
    args = (int(port), src, int(n), float(seconds), float(interval), out)
    if mode == "headers":
        headers(*args)
    elif mode == "body":
        body(*args)
    else:
        sys.exit("slowclients.py: mode must be headers or body")


if __name__ == "__main__":
    main(sys.argv)

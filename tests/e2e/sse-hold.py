#!/usr/bin/env python3
"""sse-hold.py HOST PORT PATH N: opens N SSE streams (GET PATH), prints
"ready N" once every stream sent its first event, then drains them until
stdin closes, and prints "open K" (streams still open, never ended by the
server) before it exits. Used by t72-soak."""
import selectors
import socket
import sys

host, port, path, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
sel = selectors.DefaultSelector()
socks = {}
for _ in range(n):
    s = socket.create_connection((host, port))
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n".encode())
    s.setblocking(False)
    socks[s] = b""
    sel.register(s, selectors.EVENT_READ)
sel.register(sys.stdin, selectors.EVENT_READ)
started, ended, announced = set(), set(), False
while True:
    for key, _ in sel.select(timeout=1):
        if key.fileobj is sys.stdin:
            if not sys.stdin.readline():
                print(f"open {n - len(ended)}", flush=True)
                sys.exit(0)
            continue
        s = key.fileobj
        try:
            data = s.recv(65536)
        except (ConnectionResetError, BlockingIOError):
            data = b"" if s not in started else None
        if data is None:
            continue
        if not data:
            ended.add(s)
            sel.unregister(s)
            continue
        if s not in started:
            socks[s] += data
            if b"\nevent: " in socks[s] or socks[s].startswith(b"event: "):
                started.add(s)
                socks[s] = b""
    if not announced and len(started) == n:
        print(f"ready {n}", flush=True)
        announced = True
    if not announced and ended:
        print(f"ended {len(ended)} before their first event", flush=True)
        sys.exit(1)

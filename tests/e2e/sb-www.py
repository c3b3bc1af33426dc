# sb-www.py ADDR PORT DIR - the "internet" HTTP server of the sing-box tests:
# files from DIR, and /slow/N: N chunks of 64 KiB, one every 50 ms, so a
# transfer stays open on the server side for N/20 seconds (a plain file is
# swallowed by the proxies' buffers at once).
import http.server, os, socketserver, sys, time

addr, port, root = sys.argv[1], int(sys.argv[2]), sys.argv[3]

class H(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **k):
        super().__init__(*a, directory=root, **k)

    def do_GET(self):
        if not self.path.startswith("/slow/"):
            return super().do_GET()
        n = int(self.path[6:])
        self.send_response(200)
        self.send_header("Content-Length", str(n * 65536))
        self.end_headers()
        chunk = b"x" * 65536
        try:
            for _ in range(n):
                self.wfile.write(chunk)
                self.wfile.flush()
                time.sleep(0.05)
        except OSError:
            pass

class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

S((addr, port), H).serve_forever()

"""A tiny HTTP server: ``serve.py PORT [READY_FILE]``; logs its URL, then writes READY_FILE."""

import http.server
import pathlib
import signal
import sys
import threading


class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


port = int(sys.argv[1])
server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Health)
signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
print("starting", flush=True)
print(f"listening on http://127.0.0.1:{port}", flush=True)
if len(sys.argv) > 2:
    pathlib.Path(sys.argv[2]).write_text("ready")
server.serve_forever()
server.server_close()

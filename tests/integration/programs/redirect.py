"""An HTTP server that answers every GET with a 302 to the URL given; prints its port."""

from __future__ import annotations

import http.server
import sys

TARGET = sys.argv[1]


class Redirecting(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(302)
        self.send_header("Location", TARGET)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Redirecting)
print(server.server_port, flush=True)
server.serve_forever()

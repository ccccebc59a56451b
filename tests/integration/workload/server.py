"""A small real HTTP server for workload and probe tests (loopback, port 0)."""

from __future__ import annotations

import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class JsonServer:
    """Routes: ``/job`` → ``{"job": {"id": n}}``; ``/status`` → ``{"state": "running"}``;
    ``/text`` → plain text; ``/down`` → 503; ``/gate`` waits for ``gate`` to open first."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.at_gate = threading.Event()
        """Set once a request is held at ``/gate``."""
        self.hits = 0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> JsonServer:
        self._thread.start()
        return self

    def close(self) -> None:
        self.gate.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _answer(self, path: str) -> tuple[int, str, bytes]:
        with self._lock:
            self.hits += 1
        if path == "/job":
            return 200, "application/json", _json({"job": {"id": next(self._ids)}})
        if path == "/status":
            return 200, "application/json", _json({"backend": {"state": "running"}})
        if path == "/text":
            return 200, "text/plain", b"hello"
        if path == "/gate":
            self.at_gate.set()
            self.gate.wait(30.0)
            return 200, "application/json", _json({"ok": True})
        return 503, "application/json", _json({"error": "recovering"})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                self.rfile.read(length)
                status, kind, body = server._answer(self.path)
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = _serve
            do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()

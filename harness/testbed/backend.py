"""The backend child: a tiny HTTP service on its own port (Cortex in the Jan incident).

It answers with its pid and instance id. HTTP is hand-rolled on sockets because
``http.server`` costs ~55 ms of imports and restarts are the hot path.
Endpoints: GET /health, POST /echo {"text"}, POST /destroy {"instance"}.

Without ``--fd`` it runs standalone, as a plain program under another supervisor (the
benchmark runs it under supervisord and circus): no channel, no tie to its parent; it says
``pid N ready on 127.0.0.1:PORT`` on stderr once it listens, and serves until killed.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
from typing import Any

from harness.testbed import lifeline

MAX_BODY = 1 << 20


class Backend:
    """State of one backend process."""

    def __init__(self, instance: str, allow_foreign_destroy: bool) -> None:
        self.instance = instance
        self.allow_foreign_destroy = allow_foreign_destroy

    def handle(self, method: str, path: str, body: Any) -> tuple[int, dict[str, Any], bool]:
        """Route one request: (status, JSON answer, exit after answering)."""
        base = {"pid": os.getpid(), "instance": self.instance}
        if method == "GET" and path == "/health":
            return 200, {"ok": True, **base}, False
        if method == "POST" and path == "/echo":
            text = body.get("text") if isinstance(body, dict) else None
            return 200, {"text": text, "backend_pid": os.getpid(), **base}, False
        if method == "POST" and path == "/destroy":
            caller = body.get("instance") if isinstance(body, dict) else None
            if self.allow_foreign_destroy or caller == self.instance:
                return 200, {"destroyed": True, **base}, True
            return 403, {"error": "destroy refused: not this backend's owner", **base}, False
        return 404, {"error": f"no route {method} {path}", **base}, False


def read_request(conn: socket.socket) -> tuple[str, str, Any] | None:
    """Parse one HTTP/1.x request (headers, Content-Length body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
        if len(data) > MAX_BODY:
            return None
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) < 2:
        return None
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = min(int(value.strip() or 0), MAX_BODY)
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    try:
        body = json.loads(rest[:length]) if length else None
    except ValueError:
        body = None
    return parts[0], parts[1].split("?")[0], body


def answer(conn: socket.socket, status: int, value: dict[str, Any]) -> None:
    """Write a JSON answer and close."""
    payload = json.dumps(value).encode()
    head = (
        f"HTTP/1.1 {status} {'OK' if status < 400 else 'Error'}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
        "Connection: close\r\n\r\n"
    )
    conn.sendall(head.encode() + payload)


def serve_one(backend: Backend, conn: socket.socket) -> None:
    """Serve one connection (one request, then close)."""
    with conn:
        try:
            conn.settimeout(5.0)
            request = read_request(conn)
            if request is None:
                return
            status, value, then_exit = backend.handle(*request)
            answer(conn, status, value)
        except (OSError, ValueError):
            return
    if then_exit:
        lifeline.log("backend", "destroyed on request")
        os._exit(0)


def main(argv: list[str] | None = None) -> int:
    """Bind, report the port (over the channel, or on stderr when standalone), serve."""
    flags = lifeline.parse_flags(sys.argv[1:] if argv is None else argv)
    channel = None
    if "fd" in flags:  # else standalone: a plain program, no channel, no tie to the parent
        lifeline.tie_to_parent()
        channel = lifeline.open_channel(int(flags["fd"]))
    backend = Backend(flags.get("instance", ""), flags.get("allow-foreign-destroy") == "1")
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # rebind past TIME_WAIT
    port = int(flags.get("port", "0"))
    try:
        server.bind(("127.0.0.1", port))
    except OSError as exc:
        lifeline.log("backend", f"cannot bind 127.0.0.1:{port}: {exc}")
        return 1
    server.listen(128)
    bound = server.getsockname()[1]
    if channel is None:
        lifeline.log("backend", f"pid {os.getpid()} ready on 127.0.0.1:{bound}")
    else:
        channel.send({"t": "ready", "port": bound, "pid": os.getpid()})
        lifeline.watch_parent(channel)
        beat = float(flags.get("beat", "0.5"))
        heartbeat = threading.Thread(
            target=lifeline.heartbeat_forever, args=(channel, beat), daemon=True
        )
        heartbeat.start()
    while True:
        conn, _ = server.accept()
        threading.Thread(target=serve_one, args=(backend, conn), daemon=True).start()


if __name__ == "__main__":
    raise SystemExit(main())

"""JSON-lines messages over a unix socketpair: the IPC between the supervisor and a child.

The same socket is the child's lifeline: when the supervisor dies its end closes, and the
child reads EOF.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import threading
from typing import Any

Message = dict[str, Any]


class Channel:
    """One end of a child's socketpair; ``send`` is thread-safe, reading is single-reader."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buf = b""
        self._lock = threading.Lock()

    def fileno(self) -> int:
        """The socket's descriptor (for selectors)."""
        return self.sock.fileno()

    def send(self, msg: Message) -> bool:
        """Send one message; False when the other end is gone or (non-blocking) full."""
        data = json.dumps(msg, separators=(",", ":")).encode() + b"\n"
        with self._lock:
            try:
                self.sock.sendall(data)
            except OSError:
                return False
        return True

    def feed(self) -> list[Message] | None:
        """Read what is available now; the complete messages, or None at EOF."""
        try:
            data = self.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return []
        except OSError:
            return None
        if not data:
            return None
        self._buf += data
        *lines, self._buf = self._buf.split(b"\n")
        out: list[Message] = []
        for line in lines:
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                out.append(value)
        return out

    def recv(self, timeout: float | None) -> list[Message] | None:
        """Wait up to ``timeout`` for messages: [] on timeout, None at EOF."""
        ready, _, _ = select.select([self.sock], [], [], timeout)
        if not ready:
            return []
        return self.feed()

    def close(self) -> None:
        """Close the socket (idempotent)."""
        with contextlib.suppress(OSError):
            self.sock.close()

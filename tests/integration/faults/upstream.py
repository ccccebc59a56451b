"""A real TCP server for the proxy tests, and a client that measures what it receives.

The server runs on threads in the test process (real sockets, real kernel TCP); each
connection is handled by the behaviour the test picks: ``echo`` everything back, or
``send`` a block then close. The client records every ``recv`` with its time, so a test
asserts bytes and timings as the client saw them.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

Handler = Callable[[socket.socket], None]


def echo(conn: socket.socket) -> None:
    while data := conn.recv(65536):
        conn.sendall(data)


def record_into(received: list[bytes]) -> Handler:
    """Keep every byte received, answer nothing."""

    def handle(conn: socket.socket) -> None:
        while data := conn.recv(65536):
            received.append(data)

    return handle


def send_then_close(payload: bytes) -> Handler:
    """Wait for one request byte, answer ``payload`` in one send, close."""

    def handle(conn: socket.socket) -> None:
        if conn.recv(1):
            conn.sendall(payload)

    return handle


class Upstream:
    """A listening server on 127.0.0.1; ``close`` ends it and every connection."""

    def __init__(self, handler: Handler = echo) -> None:
        self.handler = handler
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._conns: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False
        self._accept = threading.Thread(target=self._serve, daemon=True)
        self._accept.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._one, args=(conn,), daemon=True)
            with self._lock:
                thread.start()
                self._conns.append(conn)
                self._threads.append(thread)

    def _one(self, conn: socket.socket) -> None:
        try:
            self.handler(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):  # wakes the accept (close alone does not)
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with self._lock:
            conns, threads = list(self._conns), list(self._threads)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        for thread in threads:
            thread.join(5.0)
        self._accept.join(5.0)


@dataclass
class Received:
    """What a client read: each ``recv``'s size and time (from the send), and how it ended."""

    pieces: list[tuple[float, int]] = field(default_factory=list)
    data: bytes = b""
    ended: str = "open"
    """``eof``, ``reset``, or ``open`` (nothing more within the wait)."""
    ended_at: float | None = None

    @property
    def first_at(self) -> float | None:
        return self.pieces[0][0] if self.pieces else None


def exchange(
    port: int,
    message: bytes = b"ping",
    *,
    expect: int | None = None,
    wait: float = 10.0,
    sock: socket.socket | None = None,
) -> Received:
    """Send ``message`` to ``port``; read until ``expect`` bytes, EOF, a reset, or ``wait``."""
    conn = sock or socket.create_connection(("127.0.0.1", port), timeout=wait)
    got = Received()
    try:
        start = time.monotonic()
        try:
            conn.sendall(message)
        except ConnectionResetError:
            got.ended, got.ended_at = "reset", 0.0
            return got
        deadline = start + wait
        while expect is None or len(got.data) < expect:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            conn.settimeout(left)
            try:
                data = conn.recv(65536)
            except TimeoutError:
                break
            except ConnectionResetError:
                got.ended, got.ended_at = "reset", time.monotonic() - start
                break
            if not data:
                got.ended, got.ended_at = "eof", time.monotonic() - start
                break
            got.pieces.append((time.monotonic() - start, len(data)))
            got.data += data
    finally:
        if sock is None:
            conn.close()
    return got

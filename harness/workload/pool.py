"""A pool of kept-alive HTTP/1.1 connections to one loopback server, as a load tool keeps.

Like ``wrk -c N``: up to ``size`` persistent connections, opened as requests need them (a
new one while fewer than ``size`` exist, so traffic spreads over all of them), then reused
least recently used first. A connection is given back after an answer the server did not
mark ``Connection: close``; after any error (timeout, reset) it is closed and a new one
takes its place, so a request that found a dead or stalled connection fails, as it does
for a client library without retries. An idle connection the server closed meanwhile is
noticed before reuse (readable at rest: EOF) and replaced, as urllib3 does.

``close`` shuts every socket down, idle or in use, so a request stalled on a frozen server
returns at once instead of at its timeout.
"""

from __future__ import annotations

import collections
import contextlib
import http.client
import select
import socket
import threading
import time


class PoolClosed(Exception):
    """The pool was closed (the workload stopped) before a connection could be had."""


class ConnectionPool:
    """Up to ``size`` kept-alive connections to ``host:port``; thread-safe."""

    def __init__(self, host: str, port: int, size: int, timeout: float) -> None:
        self._host = host
        self._port = port
        self._size = size
        self._timeout = timeout
        self._lock = threading.Condition()
        self._idle: collections.deque[http.client.HTTPConnection] = collections.deque()
        self._all: set[http.client.HTTPConnection] = set()
        self._closed = False
        self.opened = 0
        """Connections opened over the pool's life (replacements included)."""

    def acquire(self, wait: float) -> http.client.HTTPConnection | None:
        """A connection for one request, waiting up to ``wait`` for one to be free;
        ``None`` when none was. Raises ``PoolClosed`` once the pool is closed."""
        deadline = time.monotonic() + wait
        with self._lock:
            while True:
                if self._closed:
                    raise PoolClosed
                if len(self._all) < self._size:
                    return self._open()
                while self._idle:
                    connection = self._idle.popleft()
                    if not _dropped(connection):
                        return connection
                    self._discard(connection)
                if len(self._all) < self._size:
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._lock.wait(remaining)

    def release(self, connection: http.client.HTTPConnection, *, reusable: bool) -> None:
        """Give ``connection`` back: kept for the next request, or closed when not
        ``reusable`` (an error, ``Connection: close``) or when the pool is closed."""
        with self._lock:
            if reusable and not self._closed and connection in self._all:
                self._idle.append(connection)
            else:
                self._discard(connection)
            self._lock.notify()

    def close(self) -> None:
        """Shut every connection down (in-use ones too: their requests fail at once)."""
        with self._lock:
            self._closed = True
            every = list(self._all)
            self._all.clear()
            self._idle.clear()
            self._lock.notify_all()
        for connection in every:
            _shutdown(connection)

    def _open(self) -> http.client.HTTPConnection:
        connection = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
        self._all.add(connection)
        self.opened += 1
        return connection

    def _discard(self, connection: http.client.HTTPConnection) -> None:
        self._all.discard(connection)
        connection.close()


def _dropped(connection: http.client.HTTPConnection) -> bool:
    """An idle connection that is readable was closed by the server (or sent junk)."""
    sock = connection.sock
    if sock is None:
        return False  # never connected: it connects on its first request
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _shutdown(connection: http.client.HTTPConnection) -> None:
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    connection.close()

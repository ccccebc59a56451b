"""Free TCP ports on 127.0.0.1, never handed out twice while reserved.

The kernel may return the same ephemeral port to two ``bind(0)`` calls once the first socket
is closed; with trials running in parallel, two systems would then fight over one port. The
process-wide reservation set closes that gap for everything this harness hands out.
"""

from __future__ import annotations

import socket
import threading
from types import TracebackType

from harness.errors import HostError

_HOST = "127.0.0.1"
_ATTEMPTS = 64

_lock = threading.Lock()
_reserved: set[int] = set()


def free_port() -> int:
    """A port free on 127.0.0.1 now and not reserved by this process; reserve it."""
    for _ in range(_ATTEMPTS):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((_HOST, 0))
            except OSError as exc:
                raise HostError(f"cannot bind a TCP port on {_HOST}: {exc.strerror}") from exc
            port = int(sock.getsockname()[1])
        with _lock:
            if port not in _reserved:
                _reserved.add(port)
                return port
    raise HostError(f"no free TCP port on {_HOST} after {_ATTEMPTS} attempts")


def release(port: int) -> None:
    """Give ``port`` back; releasing a port not reserved is harmless."""
    with _lock:
        _reserved.discard(port)


def reserved() -> frozenset[int]:
    """The ports currently reserved by this process."""
    with _lock:
        return frozenset(_reserved)


class PortAllocator:
    """The ports of one trial: allocated together, released together."""

    def __init__(self) -> None:
        self._ports: list[int] = []
        self._lock = threading.Lock()

    def allocate(self) -> int:
        """One more free port for this trial."""
        port = free_port()
        with self._lock:
            self._ports.append(port)
        return port

    @property
    def ports(self) -> list[int]:
        with self._lock:
            return list(self._ports)

    def release(self, port: int) -> None:
        """Give back one port of this trial."""
        with self._lock:
            if port not in self._ports:
                return
            self._ports.remove(port)
        release(port)

    def release_all(self) -> None:
        """Give back every port of this trial; idempotent."""
        with self._lock:
            ports, self._ports = self._ports, []
        for port in ports:
            release(port)

    def __enter__(self) -> PortAllocator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release_all()

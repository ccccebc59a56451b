"""A TCP proxy with toxics, in the harness: Toxiproxy's model on one asyncio thread.

``ProxyHost`` runs one trial's proxies; ``Proxy.apply(toxic, direction)`` puts a toxic on
every connection through it until the returned handle is removed. Loopback only, both
where it listens and where it connects on to. ``available`` is the seam ``chaos doctor``
asks: ``None`` when this host can run proxies, else why not.
"""

from __future__ import annotations

import socket

from harness.proxy.proxyset import ProxySet
from harness.proxy.server import (
    Applied,
    Proxy,
    ProxyError,
    ProxyHost,
    ProxyStats,
    Target,
    ToxicReport,
)
from harness.proxy.toxics import (
    Bandwidth,
    Direction,
    Latency,
    LimitData,
    ResetPeer,
    Slicer,
    SlowClose,
    Timeout,
    Toxic,
)


def available() -> str | None:
    """``None`` when a loopback TCP port can be listened on here, else the reason."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            sock.listen(1)
    except OSError as exc:
        return f"cannot listen on a loopback TCP port: {exc.strerror or exc}"
    return None


__all__ = [
    "Applied",
    "Bandwidth",
    "Direction",
    "Latency",
    "LimitData",
    "Proxy",
    "ProxyError",
    "ProxyHost",
    "ProxySet",
    "ProxyStats",
    "ResetPeer",
    "Slicer",
    "SlowClose",
    "Target",
    "Timeout",
    "Toxic",
    "ToxicReport",
    "available",
]

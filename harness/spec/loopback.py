"""The loopback rule: the harness sends traffic only to this machine.

Shared by the scenario checks (a literal host is refused at load time) and by every client
(a host produced by a template is refused before anything is sent).
"""

from __future__ import annotations

import ipaddress

_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})

WILDCARDS = frozenset({"0.0.0.0", "::"})
"""Addresses a server binds to listen on every interface, loopback included."""


def loopback_for(host: str) -> str:
    """Where to reach a server given by ``host``: a wildcard means this machine's loopback
    (``0.0.0.0`` → ``127.0.0.1``, ``::`` → ``::1``); any other host is itself."""
    if host.strip("[]") not in WILDCARDS:
        return host
    return "::1" if ":" in host else "127.0.0.1"


def is_loopback(host: str) -> bool:
    """``127.0.0.0/8``, ``::1`` or a local name; nothing that could leave the machine."""
    name = host.strip("[]").lower()
    if name in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False

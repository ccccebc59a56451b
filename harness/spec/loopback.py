"""The loopback rule: the harness sends traffic only to this machine.

Shared by the scenario checks (a literal host is refused at load time) and by every client
(a host produced by a template is refused before anything is sent).
"""

from __future__ import annotations

import ipaddress

_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    """``127.0.0.0/8``, ``::1`` or a local name; nothing that could leave the machine."""
    name = host.strip("[]").lower()
    if name in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False

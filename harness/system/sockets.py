"""Which TCP ports a set of processes is listening on, read from /proc.

One read of ``/proc/net/tcp{,6}`` per look (not one per process, as psutil does), then each
process's fd table maps socket inodes to pids. Linux only; elsewhere nothing is found.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

_LISTEN = "0A"
_TABLES = ("/proc/net/tcp", "/proc/net/tcp6")


def _address(hex_addr: str) -> str:
    """``0100007F`` → ``127.0.0.1``; IPv6 tables are shown compressed enough to read."""
    if len(hex_addr) == 8:
        raw = bytes.fromhex(hex_addr)[::-1]
        return ".".join(str(b) for b in raw)
    words = [bytes.fromhex(hex_addr[i : i + 8])[::-1].hex() for i in range(0, 32, 8)]
    joined = "".join(words)
    if joined == "0" * 32:
        return "::"
    if joined.startswith("0" * 20 + "ffff"):
        v4 = bytes.fromhex(joined[24:])
        return "::ffff:" + ".".join(str(b) for b in v4)
    return ":".join(joined[i : i + 4] for i in range(0, 32, 4))


def listening_inodes() -> dict[int, tuple[str, int]]:
    """Socket inode → (address, port) for every listening TCP socket of this namespace."""
    found: dict[int, tuple[str, int]] = {}
    for table in _TABLES:
        try:
            with open(table, encoding="ascii") as handle:
                next(handle, None)
                for row in handle:
                    fields = row.split()
                    if len(fields) < 10 or fields[3] != _LISTEN:
                        continue
                    addr, _, port = fields[1].partition(":")
                    found[int(fields[9])] = (_address(addr), int(port, 16))
        except OSError:
            continue
    return found


def socket_inodes(pid: int) -> set[int]:
    """Inodes of the sockets in ``pid``'s fd table (empty if unreadable or gone)."""
    inodes: set[int] = set()
    base = f"/proc/{pid}/fd"
    try:
        names = os.listdir(base)
    except OSError:
        return inodes
    for name in names:
        try:
            target = os.readlink(f"{base}/{name}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def listening_ports(pids: Iterable[int]) -> dict[int, set[tuple[str, int]]]:
    """For each pid, the (address, port) pairs it listens on (pids listening on none omitted)."""
    pids = list(pids)
    if not pids:
        return {}
    listening = listening_inodes()
    if not listening:
        return {}
    result: dict[int, set[tuple[str, int]]] = {}
    for pid in pids:
        ports = {listening[i] for i in socket_inodes(pid) if i in listening}
        if ports:
            result[pid] = ports
    return result

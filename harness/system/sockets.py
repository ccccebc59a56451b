"""Which TCP ports a set of processes is listening on, read from the kernel.

One look at the namespace's listening sockets (not one per process, as psutil does), then
each process's fd table maps socket inodes to pids. The listening sockets come from
``sock_diag`` (netlink ``NETLINK_SOCK_DIAG``), asking the kernel for those in state LISTEN
only: ``/proc/net/tcp`` lists every socket of the machine, thousands on a busy host, which
made reading it most of an idle tracker's cost. Where sock_diag is refused, the tables are
parsed as before. Linux only; elsewhere nothing is found.
"""

from __future__ import annotations

import functools
import os
import socket
import struct
from collections.abc import Iterable

_LISTEN = "0A"
_TABLES = ("/proc/net/tcp", "/proc/net/tcp6")
NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
_NLM_F_REQUEST_DUMP = 0x1 | 0x300
_NLMSG_ERROR, _NLMSG_DONE = 2, 3
_TCP_LISTEN = 10
_NLMSG = struct.Struct("=IHHII")
_REQ = struct.Struct("=BBBBI48x")  # family, protocol, ext, pad, states, inet_diag_sockid
_MSG = struct.Struct("=BBBB2s2s16s16sIQIIIII")  # ..., sport, dport, src, dst, if, cookie, ...


def _address(hex_addr: str) -> str:
    """``0100007F`` → ``127.0.0.1``; IPv6 tables are shown compressed enough to read."""
    if len(hex_addr) == 8:
        return _format(bytes.fromhex(hex_addr)[::-1])
    words = [bytes.fromhex(hex_addr[i : i + 8])[::-1] for i in range(0, 32, 8)]
    return _format(b"".join(words))


def _format(raw: bytes) -> str:
    """A network-order address: 4 bytes dotted, 16 bytes as the IPv6 tables are shown."""
    if len(raw) == 4:
        return ".".join(str(b) for b in raw)
    joined = raw.hex()
    if joined == "0" * 32:
        return "::"
    if joined.startswith("0" * 20 + "ffff"):
        v4 = bytes.fromhex(joined[24:])
        return "::ffff:" + ".".join(str(b) for b in v4)
    return ":".join(joined[i : i + 4] for i in range(0, 32, 4))


@functools.cache
def diag_available() -> bool:
    """Whether listening sockets come from sock_diag here (cheap: the kernel filters for
    LISTEN) rather than from ``/proc/net/tcp`` (every socket of the machine, parsed)."""
    try:
        _diag_listening()
    except OSError:
        return False
    return True


def listening_inodes() -> dict[int, tuple[str, int]]:
    """Socket inode → (address, port) for every listening TCP socket of this namespace."""
    try:
        return _diag_listening()
    except OSError:
        return _proc_listening()


def _diag_listening() -> dict[int, tuple[str, int]]:
    """The listening TCP sockets, from sock_diag (state LISTEN only, filtered by the kernel)."""
    found: dict[int, tuple[str, int]] = {}
    with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG) as sock:
        for family in (socket.AF_INET, socket.AF_INET6):
            request = _REQ.pack(family, socket.IPPROTO_TCP, 0, 0, 1 << _TCP_LISTEN)
            header = _NLMSG.pack(
                _NLMSG.size + len(request), SOCK_DIAG_BY_FAMILY, _NLM_F_REQUEST_DUMP, 1, 0
            )
            sock.send(header + request)
            _diag_replies(sock, family, found)
    return found


def _diag_replies(sock: socket.socket, family: int, found: dict[int, tuple[str, int]]) -> None:
    while True:
        data = sock.recv(65536)
        offset = 0
        while offset + _NLMSG.size <= len(data):
            length, kind = _NLMSG.unpack_from(data, offset)[:2]
            if kind == _NLMSG_DONE:
                return
            if kind == _NLMSG_ERROR:
                raise OSError("sock_diag refused the request")
            if length < _NLMSG.size:
                return
            if offset + _NLMSG.size + _MSG.size <= len(data):
                fields = _MSG.unpack_from(data, offset + _NLMSG.size)
                sport, src, inode = fields[4], fields[6], fields[-1]
                raw = src[:4] if family == socket.AF_INET else src
                found[inode] = (_format(raw), int.from_bytes(sport, "big"))
            offset += (length + 3) & ~3


def _proc_listening() -> dict[int, tuple[str, int]]:
    """The listening TCP sockets, parsed from ``/proc/net/tcp{,6}`` (every socket listed)."""
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


def only_ours(port: int) -> bool:
    """Whether every socket listening on TCP ``port`` is one of this process's own.

    The harness listens too (a ``squat_port`` fault's squatter, a proxy): such a socket
    answers a connect, but it is not the system, so it never makes a system ready.
    """
    inodes = {inode for inode, (_, bound) in listening_inodes().items() if bound == port}
    return bool(inodes) and inodes <= socket_inodes(os.getpid())

"""Kernel process events (the proc connector): every fork and exec, as it happens.

One netlink socket (``NETLINK_CONNECTOR``, group ``CN_IDX_PROC``) per harness process,
shared by every trial's tracker through one reading thread (``ProcEventHub``). The
connector reports the whole machine, so the hub filters before anything else: each
subscriber (a tracker) *watches* the pids of its system, and an event is looked at further
only when it names a watched pid. A fork by a watched process makes the child watched at
once, in the hub's own thread, before the tracker has even seen it: a daemon's double fork
is followed through an intermediate that exits within microseconds, and events keep their
kernel order (a fork always comes before the child's exec or exit). An exit unwatches, in
that order too: a tracker's pidfd may report a process's exit before the hub has read the
fork it made just before dying, so trackers never unwatch on their own. A pid is watched
only while its exit has not been read: the hub remembers recent exits (until a fork hands
the pid out again), so a process a tracker found by a scan and watched just after it died
is never left watched, its pid free for a stranger.

Thread creations (``clone`` of a thread) and thread exits are dropped: only processes
matter. A socket filter (classic BPF, ``FILTER``) drops them in the kernel already, with
every other kind of event, so a machine busy starting threads does not wake the hub.
When the socket overruns (``ENOBUFS``: events were lost), every subscriber is told
to rescan at once and re-watch what it holds; the hub forgets what it inferred.

Exits are not delivered: trackers see them through pidfds, which also name exactly one
process for signals. Needs root or ``CAP_NET_ADMIN`` in the initial pid namespace;
``probe`` says whether events really arrive here (``host.py`` decides, ``chaos doctor``
shows it).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import select
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "Exec",
    "Fork",
    "ProcEventHub",
    "Subscription",
    "acquire",
    "open_socket",
    "parse",
    "probe",
    "release",
]

NETLINK_CONNECTOR = 11
CN_IDX_PROC = 1
CN_VAL_PROC = 1
PROC_CN_MCAST_LISTEN = 1
PROC_CN_MCAST_IGNORE = 2
NLMSG_DONE = 3
PROC_EVENT_FORK = 0x00000001
PROC_EVENT_EXEC = 0x00000002
PROC_EVENT_EXIT = 0x80000000

_NLMSG = struct.Struct("=IHHII")  # len, type, flags, seq, pid
_CNMSG = struct.Struct("=IIIIHH")  # idx, val, seq, ack, len, flags
_EVENT = struct.Struct("=IIQ")  # what, cpu, timestamp_ns
_FORK = struct.Struct("=IIII")  # parent pid, parent tgid, child pid, child tgid
_PAIR = struct.Struct("=II")  # pid, tgid (exec, exit)
_BODY = _NLMSG.size + _CNMSG.size + _EVENT.size
_RCVBUF = 8 << 20
_GONE_KEEP_S = 60.0
"""How long a read exit is remembered (a tracker watches a pid within milliseconds)."""
_GONE_MAX = 16384
_PROBE_WAIT_S = 1.0


@dataclass(frozen=True, slots=True)
class Fork:
    """Process ``parent`` created process ``child`` (tgids; thread creations dropped)."""

    parent: int
    child: int


@dataclass(frozen=True, slots=True)
class Exec:
    """Process ``pid`` replaced its image (``execve`` succeeded)."""

    pid: int


@dataclass(frozen=True, slots=True)
class Exit:
    """Process ``pid`` exited (its last thread, the group leader)."""

    pid: int


ProcEvent = Fork | Exec | Exit


def parse(datagram: bytes) -> list[ProcEvent]:
    """The process events in one datagram from the connector (pure; unknown kinds dropped)."""
    out: list[ProcEvent] = []
    offset = 0
    while offset + _BODY <= len(datagram):
        length = _NLMSG.unpack_from(datagram, offset)[0]
        body = offset + _NLMSG.size + _CNMSG.size
        what = _EVENT.unpack_from(datagram, body)[0]
        data = body + _EVENT.size
        if what == PROC_EVENT_FORK and data + _FORK.size <= len(datagram):
            _, ptgid, cpid, ctgid = _FORK.unpack_from(datagram, data)
            if cpid == ctgid:  # a new process, not a new thread
                out.append(Fork(parent=ptgid, child=ctgid))
        elif what == PROC_EVENT_EXEC and data + _PAIR.size <= len(datagram):
            out.append(Exec(pid=_PAIR.unpack_from(datagram, data)[1]))
        elif what == PROC_EVENT_EXIT and data + _PAIR.size <= len(datagram):
            pid, tgid = _PAIR.unpack_from(datagram, data)
            if pid == tgid:
                out.append(Exit(pid=tgid))
        if length < _NLMSG.size:
            break
        offset += (length + 3) & ~3  # NLMSG_ALIGN
    return out


# --------------------------------------------------------------------------- the filter

_LD_ABS, _JEQ_K, _JEQ_X, _TAX, _RET = 0x20, 0x15, 0x1D, 0x07, 0x06
_WHAT = _NLMSG.size + _CNMSG.size
_DATA = _WHAT + _EVENT.size


def _be(value: int) -> int:
    """A host-order u32 as BPF loads it (``ld`` reads packets in network order)."""
    return int.from_bytes(struct.pack("=I", value), "big")


FILTER: list[tuple[int, int, int, int]] = [  # (code, jt, jf, k)
    (_LD_ABS, 0, 0, _WHAT),  # 0: what
    (_JEQ_K, 2, 0, _be(PROC_EVENT_FORK)),  # 1: -> 4
    (_JEQ_K, 9, 0, _be(PROC_EVENT_EXEC)),  # 2: -> 12 accept
    (_JEQ_K, 4, 9, _be(PROC_EVENT_EXIT)),  # 3: -> 8, else drop
    (_LD_ABS, 0, 0, _DATA + 8),  # 4: fork: child pid
    (_TAX, 0, 0, 0),
    (_LD_ABS, 0, 0, _DATA + 12),  # child tgid
    (_JEQ_X, 4, 5, 0),  # 7: a process -> accept, a thread -> drop
    (_LD_ABS, 0, 0, _DATA),  # 8: exit: pid
    (_TAX, 0, 0, 0),
    (_LD_ABS, 0, 0, _DATA + 4),  # tgid
    (_JEQ_X, 0, 1, 0),  # 11: the leader -> accept, a thread -> drop
    (_RET, 0, 0, 0x40000),  # 12: accept
    (_RET, 0, 0, 0),  # 13: drop
]
"""Keep process forks, execs and process exits; drop thread events and every other kind."""


def run_filter(program: list[tuple[int, int, int, int]], packet: bytes) -> bool:
    """What the kernel does with ``packet`` under ``program`` (for tests): kept or not."""
    acc = x = pc = 0
    while True:
        code, jt, jf, k = program[pc]
        pc += 1
        if code == _LD_ABS:
            if k + 4 > len(packet):
                return False  # a load past the end drops the packet
            acc = int.from_bytes(packet[k : k + 4], "big")
        elif code == _TAX:
            x = acc
        elif code in (_JEQ_K, _JEQ_X):
            pc += jt if acc == (k if code == _JEQ_K else x) else jf
        elif code == _RET:
            return k != 0
        else:
            raise ValueError(f"opcode {code:#x} is not interpreted here")


def _attach_filter(sock: socket.socket) -> bool:
    """Attach ``FILTER``; False where refused (then ``parse`` alone drops what is unwanted)."""
    code = b"".join(struct.pack("=HBBI", *op) for op in FILTER)
    buffer = ctypes.create_string_buffer(code)
    fprog = struct.pack("@HP", len(FILTER), ctypes.addressof(buffer))
    try:
        sock.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_ATTACH_FILTER", 26), fprog)
    except OSError:
        return False
    return True


def _control(sock: socket.socket, op: int) -> None:
    payload = struct.pack("=I", op)
    cn = _CNMSG.pack(CN_IDX_PROC, CN_VAL_PROC, 0, 0, len(payload), 0) + payload
    sock.send(_NLMSG.pack(_NLMSG.size + len(cn), NLMSG_DONE, 0, 0, 0) + cn)


def open_socket() -> socket.socket:
    """A connector socket already listening; raises ``OSError`` where not allowed."""
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_CONNECTOR)
    try:
        for option in (getattr(socket, "SO_RCVBUFFORCE", 33), socket.SO_RCVBUF):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, option, _RCVBUF)
                break
        sock.bind((0, CN_IDX_PROC))  # 0: the kernel picks a unique port id
        _attach_filter(sock)
        _control(sock, PROC_CN_MCAST_LISTEN)
    except BaseException:
        sock.close()
        raise
    return sock


def probe() -> tuple[bool, str]:
    """Whether fork events really arrive here: (yes, how fast) or (no, why not).

    Starts ``/bin/true`` and waits up to a second for its fork; a socket that opens but
    stays silent (another pid namespace) is a no.
    """
    try:
        sock = open_socket()
    except OSError as exc:
        if exc.errno in (errno.EPERM, errno.EACCES):
            return False, "the kernel refused the connector (needs root or CAP_NET_ADMIN)"
        if exc.errno in (errno.EPROTONOSUPPORT, errno.EAFNOSUPPORT, errno.ENOENT):
            return False, "this kernel has no process events connector (CONFIG_PROC_EVENTS)"
        return False, f"the process events connector cannot be opened: {exc.strerror or exc}"
    try:
        sock.setblocking(False)
        began = time.monotonic()
        child = subprocess.Popen(["/bin/true"], stdin=subprocess.DEVNULL)
        try:
            seen = _await_fork(sock, child.pid, began, began + _PROBE_WAIT_S)
        finally:
            child.wait()
        if seen is None:
            return False, "the connector opened but reported no fork within 1 s (a pid namespace?)"
        return (
            True,
            f"netlink proc connector (a child's fork reported {seen * 1000:.1f} ms after Popen)",
        )
    finally:
        sock.close()


def _await_fork(sock: socket.socket, pid: int, began: float, deadline: float) -> float | None:
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN)
    while (remaining := deadline - time.monotonic()) > 0:
        if not poller.poll(int(remaining * 1000) + 1):
            continue
        with contextlib.suppress(BlockingIOError, InterruptedError):
            while True:
                for event in parse(sock.recv(65536)):
                    if isinstance(event, Fork) and event.child == pid:
                        return time.monotonic() - began
    return None


# --------------------------------------------------------------------------- the hub

OnEvents = Callable[[list[tuple[Fork | Exec, int]]], None]
"""A subscriber's inbox: (event, instance of the watched pid) pairs, called on the hub's
thread. It must only queue them and wake its owner."""


class Subscription:
    """One tracker's view of the hub: the pids it watches, and where its events go."""

    def __init__(self, hub: ProcEventHub, on_events: OnEvents, on_overrun: Callable[[], None]):
        self._hub = hub
        self.on_events = on_events
        self.on_overrun = on_overrun

    def watch(self, pid: int, instance: int) -> None:
        """From now on, deliver ``pid``'s forks and exec (and its descendants')."""
        self._hub._watch(self, pid, instance)

    def unwatch(self, pid: int) -> None:
        self._hub._unwatch(self, pid)

    def close(self) -> None:
        """Deliver nothing more; forget every pid watched for this subscriber."""
        self._hub._unsubscribe(self)


class ProcEventHub:
    """The one connector socket of this process and its reading thread."""

    def __init__(self) -> None:
        self._sock = open_socket()
        self._sock.setblocking(False)
        self._lock = threading.Lock()
        self._owners: dict[int, tuple[Subscription, int]] = {}
        self._gone: dict[int, float] = {}  # pid -> when its exit was read (until forked again)
        self._subs: list[Subscription] = []
        self._wake_r, self._wake_w = os.pipe()
        self._stopping = False
        self.events_seen = 0
        """Events of the whole machine read so far (for the bench)."""
        self.datagrams = 0
        """Datagrams read (what the socket filter let through)."""
        self.overruns = 0
        """Times the socket overran (events lost; every subscriber rescanned)."""
        self._thread = threading.Thread(target=self._run, name="chaos-procevents", daemon=True)
        self._thread.start()

    def subscribe(self, on_events: OnEvents, on_overrun: Callable[[], None]) -> Subscription:
        sub = Subscription(self, on_events, on_overrun)
        with self._lock:
            self._subs.append(sub)
        return sub

    def cpu_time(self) -> float:
        """CPU seconds the reading thread has used (it reads the whole machine's events)."""
        ident = self._thread.ident
        if ident is None or not self._thread.is_alive():
            return 0.0
        try:
            return time.clock_gettime(time.pthread_getcpuclockid(ident))
        except (OSError, AttributeError):
            return 0.0

    def _watch(self, sub: Subscription, pid: int, instance: int) -> None:
        with self._lock:
            if pid in self._gone:
                return  # its exit was read already: it forks no more, and its pid is free
            self._owners.setdefault(pid, (sub, instance))

    def _unwatch(self, sub: Subscription, pid: int) -> None:
        with self._lock:
            owner = self._owners.get(pid)
            if owner is not None and owner[0] is sub:
                del self._owners[pid]

    def _unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)
            for pid in [p for p, (s, _) in self._owners.items() if s is sub]:
                del self._owners[pid]

    @property
    def subscribers(self) -> int:
        with self._lock:
            return len(self._subs)

    def close(self) -> None:
        """Stop reading and close the socket (idempotent)."""
        with self._lock:
            if self._stopping:
                return
            self._stopping = True
        os.write(self._wake_w, b"x")
        self._thread.join()
        with contextlib.suppress(OSError):
            _control(self._sock, PROC_CN_MCAST_IGNORE)
        self._sock.close()
        os.close(self._wake_r)
        os.close(self._wake_w)

    # ------------------------------------------------------------------ the thread

    def _run(self) -> None:
        poller = select.poll()
        poller.register(self._sock.fileno(), select.POLLIN)
        poller.register(self._wake_r, select.POLLIN)
        while not self._stopping:
            poller.poll()
            while not self._stopping:
                try:
                    data = self._sock.recv(65536)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError as exc:
                    if exc.errno == errno.ENOBUFS:
                        self._overrun()
                        continue
                    raise
                self.datagrams += 1
                self._dispatch(data)

    def _dispatch(self, data: bytes) -> None:
        owners = self._owners
        batches: dict[int, tuple[Subscription, list[tuple[Fork | Exec, int]]]] = {}
        gone = self._gone
        for event in parse(data):
            self.events_seen += 1
            if isinstance(event, Fork):
                gone.pop(event.child, None)  # the pid names a new process now
                owner = owners.get(event.parent)
                if owner is None:
                    continue
                with self._lock:
                    owners[event.child] = owner
            elif isinstance(event, Exec):
                owner = owners.get(event.pid)
                if owner is None:
                    continue
            else:
                with self._lock:
                    owners.pop(event.pid, None)
                    gone[event.pid] = time.monotonic()
                if len(gone) > _GONE_MAX:
                    self._forget_old_exits()
                continue
            sub, instance = owner
            batches.setdefault(id(sub), (sub, []))[1].append((event, instance))
        for sub, events in batches.values():
            sub.on_events(events)

    def _forget_old_exits(self) -> None:
        horizon = time.monotonic() - _GONE_KEEP_S
        with self._lock:
            self._gone = {pid: t for pid, t in self._gone.items() if t >= horizon}

    def _overrun(self) -> None:
        """Events were lost: what was inferred may be stale. Everyone rescans and re-watches."""
        self.overruns += 1
        with self._lock:
            self._owners.clear()
            subs = list(self._subs)
        for sub in subs:
            sub.on_overrun()


# --------------------------------------------------------------------------- sharing

_shared_lock = threading.Lock()
_shared: ProcEventHub | None = None
_holders = 0


def acquire() -> ProcEventHub:
    """The process's hub, started on first use; pair with ``release``. Raises ``OSError``."""
    global _shared, _holders
    with _shared_lock:
        if _shared is None:
            _shared = ProcEventHub()
        _holders += 1
        return _shared


def release(hub: ProcEventHub) -> None:
    """One holder fewer; the last one closes the socket (an idle harness reads nothing)."""
    global _shared, _holders
    with _shared_lock:
        if hub is not _shared:
            return
        _holders -= 1
        if _holders > 0:
            return
        _shared = None
    hub.close()

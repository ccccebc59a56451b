"""Kernel process events drive discovery: with /proc scans switched off, nothing is missed.

Every tracker here has scans every hour: whatever it sees, it saw through the connector.
"""

from __future__ import annotations

import signal
import struct
import time
from collections.abc import Callable

from support import wait_until

from harness.observe.events import ProcessStart
from harness.system import procevents

from .rig import Rig, program, required_events, role


def _message(what: int, body: bytes) -> bytes:
    event = struct.pack("=IIQ", what, 0, 0) + body
    cn = struct.pack("=IIIIHH", 1, 1, 0, 0, len(event), 0) + event
    return struct.pack("=IHHII", 16 + len(cn), 3, 0, 0, 0) + cn


def fork(ppid: int, ptgid: int, cpid: int, ctgid: int) -> bytes:
    return _message(procevents.PROC_EVENT_FORK, struct.pack("=IIII", ppid, ptgid, cpid, ctgid))


def exit_(pid: int, tgid: int) -> bytes:
    return _message(procevents.PROC_EVENT_EXIT, struct.pack("=IIII", pid, tgid, 0, 9))


ROLES = [role("main", root=True), role("worker", r"worker\.py"), role("daemon", r"daemonize")]
NO_SCANS = {"scan_interval": 3600.0, "idle_scan_interval": 3600.0, "port_interval": 3600.0}


def test_a_fork_is_seen_at_once_and_its_role_settled_at_its_exec(
    make_rig: Callable[..., Rig],
) -> None:
    rig = make_rig(ROLES, events=True, **NO_SCANS)
    assert rig.tracker.source == "netlink"
    root = rig.launch(program("fork_exec.py"))
    child = int(rig.line(r"^forked (\d+)$").group(1))
    start = rig.wait(ProcessStart, lambda e: e.pid == child)
    assert start.role == "worker", f"decided before its exec: {start.cmdline}"
    assert start.ppid == root.pid
    assert [e.pid for e in rig.timeline.of(ProcessStart)].count(child) == 1


def test_a_double_fork_is_followed_through_its_vanished_middle(
    make_rig: Callable[..., Rig],
) -> None:
    rig = make_rig(ROLES, events=True, **NO_SCANS)
    rig.launch(program("daemonize.py", "--stay"))
    daemon = int(rig.line(r"^daemon (\d+)$").group(1))
    start = rig.wait(ProcessStart, lambda e: e.pid == daemon)
    assert start.role == "daemon"
    report = rig.teardown(grace=0.5)
    assert daemon in report.swept, "tracked, so swept by the tree's sweep, not hunted"


def test_after_an_overrun_the_tracker_watches_again_and_sees_new_forks(
    make_rig: Callable[..., Rig],
) -> None:
    """ENOBUFS (events lost) is simulated: the hub forgets what it inferred, as it would."""
    rig = make_rig(ROLES, events=True, **NO_SCANS)
    hub = rig.hub
    assert hub is not None
    root = rig.launch(program("family.py", "1"))
    first = rig.wait(ProcessStart, lambda e: e.role == "worker")
    rig.line("^family ready")  # its SIGUSR2 handler is installed by then
    hub._overrun()
    wait_until(lambda: root.pid in hub._owners, what="the root watched again")
    (tracked,) = rig.tracker.processes(role="main")
    assert rig.tracker.signal(tracked, signal.SIGUSR2)  # family.py: one more worker
    second = rig.wait(ProcessStart, lambda e: e.role == "worker" and e.pid != first.pid)
    assert second.ppid == root.pid
    # Seen at its fork, before family.py has even recorded it: let it settle before teardown.
    rig.line(rf"^worker ready {second.pid}$")


def test_the_hub_is_shared_and_closed_by_its_last_holder() -> None:
    first = procevents.acquire()
    second = procevents.acquire()
    try:
        assert first is second
    finally:
        procevents.release(second)
    assert first.cpu_time() >= 0.0
    procevents.release(first)
    deadline = time.monotonic() + 5
    while first._thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not first._thread.is_alive()


def test_the_hub_unwatches_in_the_kernels_order_and_never_watches_the_dead() -> None:
    """Synthetic datagrams through a real hub (its own reading runs beside, harmlessly)."""
    required_events()
    hub = procevents.acquire()
    seen: list[object] = []
    sub = hub.subscribe(lambda events: seen.extend(events), lambda: None)
    try:
        root, middle, daemon, late = 2**22 + 11, 2**22 + 12, 2**22 + 13, 2**22 + 14
        sub.watch(root, 0)
        hub._dispatch(fork(root, root, middle, middle))
        hub._dispatch(exit_(middle, middle))  # the middle dies...
        assert middle not in hub._owners
        hub._dispatch(fork(middle, middle, daemon, daemon))  # ...its fork read after: lost
        assert daemon not in hub._owners
        # In the kernel's order the fork comes first: followed, whatever a pidfd said.
        hub._dispatch(fork(root, root, middle, middle))
        hub._dispatch(fork(middle, middle, daemon, daemon))
        hub._dispatch(exit_(middle, middle))
        assert daemon in hub._owners
        assert [type(e).__name__ for e, _ in seen].count("Fork") == 3
        hub._dispatch(exit_(late, late))
        sub.watch(late, 0)
        assert late not in hub._owners, "its exit was read: watching it would outlive it"
        hub._dispatch(fork(root, root, late, late))  # the pid handed out again
        assert late in hub._owners
    finally:
        sub.close()
        procevents.release(hub)
    assert root not in hub._owners


def test_the_kernel_takes_the_socket_filter() -> None:
    required_events()
    with procevents.open_socket() as sock:
        assert procevents._attach_filter(sock), "attached again over the first: accepted"

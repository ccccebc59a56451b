"""Kernel process events drive discovery: with /proc scans switched off, nothing is missed.

Every tracker here has scans every hour: whatever it sees, it saw through the connector.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable

from support import wait_until

from harness.observe.events import ProcessStart
from harness.system import procevents

from .rig import Rig, program, role

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

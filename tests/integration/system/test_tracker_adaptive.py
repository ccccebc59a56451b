"""The adaptive scan: slow discovery when idle must not miss spawns, and heat wakes it."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

from support import wait_until

from harness.observe.events import ProcessStart

from .rig import Rig, program, role

ROLES = [role("main", root=True), role("worker", r"worker\.py")]
NEVER_S = 3600.0


def _first_worker(rig: Rig) -> int:
    """Launch a family of one worker and wait until the tracker has it (kept hot meanwhile)."""
    rig.launch(program("family.py", "1"))
    rig.line("^family ready")

    def seen() -> bool:
        rig.tracker.heat()
        return bool(rig.tracker.processes(role="worker"))

    wait_until(seen, what="the first worker")
    wait_until(lambda: not rig.tracker.is_hot(), what="the tracker to cool down")
    (worker,) = rig.tracker.processes(role="worker")
    return worker.pid


def test_signal_through_the_tracker_wakes_a_sleeping_scan(make_rig: Callable[..., Rig]) -> None:
    # Idle scans and port scans so rare that only heat() can bring the next scan forward.
    rig = make_rig(ROLES, idle_scan_interval=NEVER_S, hot_for=0.3, port_interval=NEVER_S)
    first = _first_worker(rig)
    # The last fast scan has run and the next one is an hour away (white-box: no public view).
    wait_until(lambda: rig.tracker._pace.next_scan > time.monotonic() + 60, what="the slow scan")
    (main,) = rig.tracker.processes(role="main")
    assert rig.tracker.signal(main, signal.SIGUSR2)  # start one more worker
    assert rig.tracker.is_hot()
    start = rig.wait(ProcessStart, lambda e: e.role == "worker" and e.pid != first)
    assert start.ppid == main.pid


def test_spawn_while_idle_is_still_found(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(ROLES, idle_scan_interval=0.05, hot_for=0.3, port_interval=NEVER_S)
    first = _first_worker(rig)
    root = rig.launched[0]
    os.kill(root.pid, signal.SIGUSR2)  # our own unreaped child: not through the tracker
    start = rig.wait(ProcessStart, lambda e: e.role == "worker" and e.pid != first)
    assert start.ppid == root.pid
    assert len(rig.tracker.processes(role="worker")) == 2

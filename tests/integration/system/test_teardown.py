"""Teardown with real programs: graceful stop, sweep, marker hunt, and the safety canary."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable

from harness.observe.events import ProcessExit, Teardown
from harness.system.marker import find_marked, marker_env

from .rig import PROGRAMS, Rig, program, role

ROLES = [role("main", root=True), role("worker", r"worker\.py")]


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_graceful_stop_needs_no_sweep(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(ROLES)
    root = rig.launch(program("family.py", "2"))
    rig.line("^family ready")
    report = rig.teardown()
    assert report.stopped == [root.pid]
    assert report.graceful
    assert report.clean
    assert [e.action for e in rig.timeline.of(Teardown)] == ["stop"]
    assert root.returncode == 0
    assert rig.teardown().stopped == [], "a second teardown has nothing to do"


def test_sigterm_ignored_means_sweep(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(ROLES)
    root = rig.launch(program("stubborn.py"))
    rig.line("^stubborn ready")
    report = rig.teardown(grace=0.5)
    assert not report.graceful
    assert report.swept == [root.pid]
    sweeps = [e for e in rig.timeline.of(Teardown) if e.action == "sweep"]
    assert [(e.pid, e.role) for e in sweeps] == [(root.pid, "main")]
    died = rig.wait(ProcessExit, lambda e: e.pid == root.pid)
    assert died.signal == "SIGKILL"


def test_leaked_child_is_swept(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig([role("main", root=True), role("survivor", "signal.pause")])
    rig.launch(program("leaky.py"))
    survivor = int(rig.line(r"^survivor ready (\d+)$").group(1))
    report = rig.teardown(grace=0.5)
    assert report.swept == [survivor]
    assert _gone(survivor)


def test_frozen_process_is_killed_and_thawed(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(ROLES)
    rig.launch(program("stubborn.py"))
    rig.line("^stubborn ready")
    (main,) = rig.tracker.processes(role="main")
    assert rig.tracker.signal(main, signal.SIGSTOP)
    assert main.frozen
    report = rig.teardown(grace=0.3)
    assert report.swept == [main.pid]
    (sweep,) = [e for e in rig.timeline.of(Teardown) if e.action == "sweep"]
    assert sweep.detail == {"frozen": True}
    assert not main.alive


def test_daemon_is_found_by_marker_and_killed(make_rig: Callable[..., Rig]) -> None:
    # Scans so rare that the double fork escapes the tree unseen: only the marker finds it.
    rig = make_rig(ROLES, scan_interval=3600.0, port_interval=3600.0)
    rig.launch(program("daemonize.py", "--stay"))
    daemon = int(rig.line(r"^daemon (\d+)$").group(1))
    assert daemon in find_marked(rig.trial_id)
    assert rig.tracker.get(daemon) is None
    report = rig.teardown()
    assert report.orphans == [daemon]
    orphans = [e for e in rig.timeline.of(Teardown) if e.action == "orphan"]
    assert [e.pid for e in orphans] == [daemon]
    assert _gone(daemon)
    assert find_marked(rig.trial_id) == []


def test_daemon_with_default_tracking_leaves_nothing(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(ROLES)
    root = rig.launch(program("daemonize.py"))
    daemon = int(rig.line(r"^daemon (\d+)$").group(1))
    rig.wait(ProcessExit, lambda e: e.pid == root.pid)
    report = rig.teardown(grace=0.5)
    assert daemon in report.swept + report.orphans, "the harness had to kill the daemon"
    assert _gone(daemon)
    assert find_marked(rig.trial_id) == []


def test_canary_outside_the_system_is_never_signalled(make_rig: Callable[..., Rig]) -> None:
    """SAFETY: a role matching everything must still never reach a process we did not launch,
    with or without a marker of another trial."""
    canaries = [
        subprocess.Popen(
            [sys.executable, str(PROGRAMS / "canary.py")],
            stdout=subprocess.PIPE,
            env={**os.environ, **extra},
        )
        for extra in ({}, marker_env("another-trial"))
    ]
    try:
        for canary in canaries:
            assert canary.stdout is not None
            assert canary.stdout.readline() == b"canary ready\n"
        rig = make_rig([role("everything", ".*")])
        rig.launch(program("stubborn.py"))
        rig.line("^stubborn ready")
        tracked = {p.pid for p in rig.tracker.processes(alive_only=False)}
        assert not tracked & {c.pid for c in canaries}
        report = rig.teardown(grace=0.3)
        assert report.swept
        assert not report.orphans
        for canary in canaries:
            assert canary.poll() is None, "the canary must be alive"
            with open(f"/proc/{canary.pid}/stat") as stat:
                state = stat.read().rsplit(")", 1)[1].split()[0]
            assert state in ("S", "R"), f"canary state {state}"
    finally:
        for canary in canaries:
            canary.kill()
            out, _ = canary.communicate()
            if canary.returncode == -signal.SIGKILL:
                assert out == b"", f"the canary received signals: {out!r}"

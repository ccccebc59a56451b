"""Containment with real processes: the trial's cgroup holds whatever the system does.

Each test that needs a cgroup or kernel events skips (saying why) on a host without them;
on a host with both, each source is tried: kernel events, and /proc scans of the cgroup.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from support import wait_until

from harness.errors import HostError
from harness.observe.events import PortListen, ProcessExit, ProcessStart, Teardown
from harness.observe.timeline import Timeline
from harness.system import cgroups, procfs
from harness.system.launcher import launch
from harness.system.marker import read_marker
from harness.system.ports import free_port, release

from .rig import Rig, role

E2E_SYSTEMS = Path(__file__).resolve().parents[2] / "e2e" / "systems"

ROLES = [role("main", root=True), role("daemon", r"--hide"), role("sleeper", r"sleep 306")]
SOURCES = [pytest.param(True, id="kernel-events"), pytest.param(False, id="proc-scans")]


def _gone(pid: int) -> bool:
    return procfs.state(pid) in (None, "Z", "X")


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def port() -> int:
    chosen = free_port()
    yield chosen
    release(chosen)


@pytest.mark.parametrize("events", SOURCES)
def test_a_daemon_that_scrubs_its_environment_and_double_forks_is_found_and_ended(
    make_rig: Callable[..., Rig], port: int, events: bool
) -> None:
    rig = make_rig(ROLES, cgroup=True, events=events, port_interval=0.05)
    # The same daemon the e2e containment tests hide (one copy, in tests/e2e/systems).
    rig.launch([sys.executable, str(E2E_SYSTEMS / "scrubbed_daemon.py"), "--port", str(port)])
    daemon = int(rig.line(r"^daemon listening (\d+)$").group(1))
    assert read_marker(daemon) is None, "its environment is empty: no marker to find it by"
    assert rig.cgroup is not None
    assert daemon in rig.cgroup.pids(), "still in the trial's cgroup"
    start = rig.wait(ProcessStart, lambda e: e.pid == daemon)
    assert start.role == "daemon"
    listen = rig.wait(PortListen, lambda e: e.pid == daemon)
    assert listen.port == port, "the trial sees the daemon on its port"
    report = rig.teardown(grace=0.5)
    assert daemon in report.swept + report.orphans
    assert _gone(daemon)
    assert not _listening(port)
    assert not rig.cgroup.populated()


@pytest.mark.parametrize("events", SOURCES)
def test_setsid_env_i_sleep_is_tracked_and_ended(
    make_rig: Callable[..., Rig], events: bool
) -> None:
    rig = make_rig(ROLES, cgroup=True, events=events)
    rig.launch(["sh", "-c", "setsid -f env -i /bin/sleep 306; echo started; exec sleep 300"])
    rig.line("^started$")
    assert rig.cgroup is not None
    (sleeper,) = wait_until(
        lambda: [p for p in rig.cgroup.pids() if procfs.cmdline(p) == ["/bin/sleep", "306"]],
        what="sleep 306 in the cgroup",
    )
    start = rig.wait(ProcessStart, lambda e: e.pid == sleeper)
    assert start.role == "sleeper"
    assert "306" in start.cmdline, f"its role decided after its exec: {start.cmdline}"
    assert [e.pid for e in rig.timeline.of(ProcessStart)].count(sleeper) == 1
    rig.teardown(grace=0.5)
    assert _gone(sleeper)
    died = rig.wait(ProcessExit, lambda e: e.pid == sleeper)
    assert died.signal == "SIGKILL"


def test_what_escaped_the_tracker_is_ended_by_cgroup_kill_and_recorded(
    make_rig: Callable[..., Rig],
) -> None:
    # No scans and no events: the tracker knows only the root; the cgroup knows all.
    rig = make_rig(ROLES, cgroup=True, scan_interval=3600.0, port_interval=3600.0)
    root = rig.launch(["sh", "-c", "setsid -f env -i /bin/sleep 306; echo started; exec sleep 300"])
    rig.line("^started$")
    assert rig.cgroup is not None
    escaped = wait_until(
        lambda: [
            p
            for p in rig.cgroup.pids()
            if p != root.pid and procfs.cmdline(p) == ["/bin/sleep", "306"]
        ],
        what="the daemon in the cgroup",
    )
    report = rig.teardown(grace=0.5)
    assert report.orphans == escaped
    (kill,) = [e for e in rig.timeline.of(Teardown) if e.action == "orphan"]
    assert kill.pid == escaped[0]
    assert kill.detail == {"signal": "SIGKILL", "via": "cgroup.kill"}
    assert _gone(escaped[0])
    assert not rig.cgroup.populated()


def test_the_root_is_in_its_cgroup_before_it_can_fork(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig([role("main", root=True)], cgroup=True)
    # The root's very first child reports its cgroup, then the root waits.
    root = rig.launch(["sh", "-c", "cat /proc/self/cgroup; exec sleep 300"])
    assert rig.cgroup is not None
    leaf = rig.cgroup.mount.path_of(rig.cgroup.leaves[0].path)
    rig.line(rf"^0::{leaf}$")
    assert cgroups.cgroup_of(root.pid) == leaf
    start = rig.wait(ProcessStart, lambda e: e.pid == root.pid)
    assert start.cmdline == ["sh", "-c", "cat /proc/self/cgroup; exec sleep 300"], (
        "recorded as the command, not the shim"
    )


def test_instances_have_leaves_of_their_own(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig([role("main", root=True)], cgroup=True, instances=2)
    first = rig.launch(["sleep", "300"], 0)
    second = rig.launch(["sleep", "300"], 1)
    assert rig.cgroup is not None
    assert rig.cgroup.instance_of(first.pid) == 0
    assert rig.cgroup.instance_of(second.pid) == 1
    assert rig.cgroup.instance_of(os.getpid()) is None


def test_a_root_that_cannot_enter_its_cgroup_is_a_host_error_and_nothing_runs(
    tmp_path: Path,
) -> None:
    timeline = Timeline()
    with pytest.raises(HostError, match=r"could not enter its cgroup.*CHAOS_CONTAINMENT=marker"):
        launch(
            ["sleep", "300"],
            instance=0,
            env={},
            cwd=tmp_path,
            timeline=timeline,
            trial_id="t",
            cgroup_procs=tmp_path / "no-such-cgroup" / "cgroup.procs",
        )
    assert timeline.events() == [], "nothing was started, nothing is recorded"


def test_a_missing_program_is_still_a_clear_error_through_the_shim(
    make_rig: Callable[..., Rig], tmp_path: Path
) -> None:
    from harness.errors import SystemUnderTestError

    rig = make_rig([role("main", root=True)], cgroup=True)
    with pytest.raises(SystemUnderTestError, match="No such file"):
        rig.launch([str(tmp_path / "no-such-program")])
    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o644)
    with pytest.raises(SystemUnderTestError, match="Permission denied"):
        rig.launch([str(script)])

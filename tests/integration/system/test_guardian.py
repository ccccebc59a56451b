"""The guardian and the leftover reaping, with real processes and real cgroups.

A guardian is started here for a pretend harness; closing its pipe plays the harness's
death. The safety rules matter as much as the kills: a normal close never hunts markers
(another run scope of the same live harness may own them), and the next run never touches
a run cgroup whose harness is alive.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import wait_until

from harness.system import cgroups, containment, guardian, host, leftovers, procfs
from harness.system.containment import RunName, RunScope
from harness.system.marker import HARNESS_PID_ENV, HARNESS_START_ENV, TRIAL_ENV, start_time

from .rig import required_cgroup


def _gone(pid: int) -> bool:
    return procfs.state(pid) in (None, "Z", "X")


def _sleeper(env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(["sleep", "300"], env={**os.environ, **(env or {})})


def _guardian(*args: str) -> tuple[subprocess.Popen[bytes], int]:
    read_end, write_end = os.pipe()
    proc = subprocess.Popen(
        [sys.executable, "-I", "-S", guardian.__file__, *args],
        stdin=read_end,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    os.close(read_end)
    assert proc.stdout is not None
    assert proc.stdout.readline().decode().strip() == guardian.READY
    return proc, write_end


@pytest.fixture
def harness() -> Iterator[tuple[int, int]]:
    """The pid and start time of a pretend harness, alive throughout: the guardian learns of
    a harness's death from its pipe alone, and every other run's leftover reaping (a
    parallel test worker's ``chaos run``) leaves the processes of a live harness alone, so
    only the guardian under test can end them."""
    proc = subprocess.Popen(["sleep", "300"])
    try:
        wait_until(lambda: start_time(proc.pid) is not None, what="the pretend harness runs")
        yield proc.pid, start_time(proc.pid) or 0
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture
def dead_harness() -> tuple[int, int]:
    """The pid and start time of a process that has exited (a harness that died)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.05)"])
    started = start_time(proc.pid) or 0
    proc.wait()
    return proc.pid, started


@pytest.fixture
def own_parent(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A chaos parent cgroup of this test's own: a dead harness's run cgroup under the shared
    one would be ended by whichever run reaps first, perhaps a parallel test worker's."""
    required_cgroup()
    monkeypatch.setenv(host.PARENT_ENV, f"chaos-test-{os.getpid()}-{time.monotonic_ns()}")
    found = host.locate()
    assert found is not None
    parent, _ = host.place(*found)  # as the next run's reaping finds it, env read anew
    assert parent is not None
    assert parent.name == os.environ[host.PARENT_ENV]
    yield parent
    if parent.exists():
        cgroups.Cgroup(parent).remove()


def test_on_the_harness_death_it_kills_its_marked_processes_only(
    harness: tuple[int, int], tmp_path: Path
) -> None:
    pid, started = harness
    ours = _sleeper({TRIAL_ENV: "t", HARNESS_PID_ENV: str(pid), HARNESS_START_ENV: str(started)})
    theirs = _sleeper({TRIAL_ENV: "t", HARNESS_PID_ENV: str(os.getpid())})
    folder = tmp_path / "chaos-x-1"
    folder.mkdir()
    (folder / ".chaos-owner").write_text(json.dumps({"harness_pid": pid, "harness_start": started}))
    kept = tmp_path / "chaos-y-2"
    kept.mkdir()
    (kept / ".chaos-owner").write_text(json.dumps({"harness_pid": os.getpid()}))
    try:
        wait_until(lambda: procfs.cmdline(ours.pid) == ["sleep", "300"], what="exec'd, marked")
        proc, write_end = _guardian(
            "--harness-pid", str(pid), "--harness-start", str(started), "--tmpdir", str(tmp_path)
        )
        os.close(write_end)  # the harness dies: no "close" first
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0
        assert ours.wait(timeout=30) == -9
        assert theirs.poll() is None, "another harness's process is never touched"
        assert b"ended 1 process(es)" in err
        assert not folder.exists()
        assert kept.exists()
    finally:
        for each in (ours, theirs):
            each.kill()
            each.wait()


def test_a_normal_close_never_hunts_markers(harness: tuple[int, int]) -> None:
    pid, started = harness
    marked = _sleeper({TRIAL_ENV: "t", HARNESS_PID_ENV: str(pid), HARNESS_START_ENV: str(started)})
    try:
        wait_until(lambda: procfs.cmdline(marked.pid) == ["sleep", "300"], what="marked")
        proc, write_end = _guardian("--harness-pid", str(pid), "--harness-start", str(started))
        os.write(write_end, guardian.CLOSE.encode())
        os.close(write_end)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0
        assert err == b""
        assert marked.poll() is None
    finally:
        marked.kill()
        marked.wait()


@pytest.fixture
def run_cgroup(dead_harness: tuple[int, int], own_parent: Path) -> Iterator[cgroups.Cgroup]:
    """A run cgroup named for the dead harness, under a chaos parent of this test's own,
    removed at the end."""
    pid, started = dead_harness
    name = RunName(containment.pid_namespace(), pid, started, 1)
    group = cgroups.Cgroup(own_parent / str(name))
    group.child("trial-x").child("i0").create()
    yield group
    if group.exists():
        group.kill()
        group.wait_for(empty=True, timeout=5)
        group.remove()


def test_on_the_harness_death_it_ends_and_removes_the_run_cgroup(
    run_cgroup: cgroups.Cgroup, dead_harness: tuple[int, int]
) -> None:
    sleeper = _sleeper()
    run_cgroup.child("trial-x").child("i0").add(sleeper.pid)
    proc, write_end = _guardian(
        "--harness-pid", str(dead_harness[0]), "--cgroup", str(run_cgroup.path)
    )
    os.close(write_end)
    proc.communicate(timeout=30)
    assert sleeper.wait(timeout=30) == -9
    assert not run_cgroup.exists()


def test_the_next_run_ends_a_dead_harness_run_cgroup_and_says_so(
    run_cgroup: cgroups.Cgroup,
) -> None:
    sleeper = _sleeper()
    try:
        run_cgroup.child("trial-x").child("i0").add(sleeper.pid)
        lines = leftovers.reap_cgroups()
        (line,) = [line for line in lines if run_cgroup.name in line]
        assert f"ended 1 process(es) ({sleeper.pid} sleep 300)" in line
        assert sleeper.wait(timeout=30) == -9
        assert not run_cgroup.exists()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_live_harness_run_cgroup_is_never_touched() -> None:
    scope = RunScope(required_cgroup(), host.process_events({}))
    try:
        trial = scope.trial("live", 1)
        assert trial is not None
        sleeper = _sleeper()
        try:
            trial.leaves[0].add(sleeper.pid)
            leftovers.reap_cgroups()
            assert sleeper.poll() is None
            assert scope.run is not None
            assert scope.run.exists()
        finally:
            sleeper.kill()
            sleeper.wait()
    finally:
        scope.close()
    assert scope.run is not None
    assert not scope.run.exists(), "the last holder removes the run cgroup"
    assert not scope.guardian.alive(), "and dismisses the guardian"


def test_the_switches_force_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAOS_CONTAINMENT", "marker")
    monkeypatch.setenv("CHAOS_PROCESS_EVENTS", "scan")
    scope = containment.acquire()
    try:
        assert not scope.uses_cgroups
        assert scope.trial("t", 1) is None
        assert str(scope.events.source) == "scan"
        assert scope.guardian.alive(), "the fallback has its guardian too"
        assert containment.acquire() is scope, "shared while held"
        containment.release(scope)
    finally:
        containment.release(scope)
    assert not scope.guardian.alive()
    wait_until(lambda: _gone(scope.guardian.pid), what="the guardian reaped")


def test_v1_leftovers_signal_only_pids_the_kernel_still_puts_in_that_folder(
    tmp_path: Path,
) -> None:
    """A folder whose ``cgroup.procs`` lists a pid that ``/proc/PID/cgroup`` does not put
    there (a pid reused since it was listed) is not a reason to signal that process."""
    stranger = _sleeper()
    try:
        run = tmp_path / "run-1-2-3-4"
        (run / "t-f0-p1").mkdir(parents=True)
        (run / "t-f0-p1" / "cgroup.procs").write_text(f"{stranger.pid}\n")
        assert guardian.kill_in_v1(run) == 0
        assert guardian.end_v1([run]) == 0
        assert stranger.poll() is None, "a process outside the folder was signalled"
    finally:
        stranger.kill()
        stranger.wait()


def test_the_guardian_launch_line_can_load_its_v1_helpers() -> None:
    """``python -I -S guardian.py`` sees only the standard library: the v1 helpers too."""
    code = (
        "import runpy, sys; g = runpy.run_path(sys.argv[1]);"
        " print(g['kill_in_v1'](__import__('pathlib').Path('/nonexistent')))"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code, guardian.__file__],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert out.stdout.strip() == "0"

"""``memory_limit``, ``cpu_throttle`` and ``pids_limit`` on real processes, judged by them.

The child (``programs/resource_child.py``) allocates, forks and spins when told. Each test
asserts what the process saw (an OOM kill, EAGAIN from fork, the CPU it got measured from
``/proc/PID/stat``), that the limit is gone after ``for`` (the process back in its own
cgroup, the group removed) and that nothing is left under the run's folders after the
teardown. Skipped with the reason where the host has no such controller (or no root).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from support import wait_until

from harness.faults.base import Firing
from harness.faults.registry import FAULTS
from harness.faults.resources import hierarchy
from harness.observe.events import Event, FaultAction, HarnessNote
from harness.spec.effects import Effect
from harness.system import cgroups, limits
from harness.system import leftovers as leftovers_mod
from harness.system.containment import RunName, pid_namespace
from harness.system.limits import Controller

from .context import RealContext

CHILD = Path(__file__).resolve().parents[1] / "programs" / "resource_child.py"
DEADLINE = 30.0
RUN = f"import runpy; runpy.run_path({str(CHILD)!r}, run_name='__main__')"
BUSY = "while True:\n    pass\n"


def _why(controller: Controller) -> str | None:
    found = limits.backend_for(controller, None)  # the tests' context has no v2 trial
    return found if isinstance(found, str) else None


def needs(controller: Controller) -> pytest.MarkDecorator:
    why = _why(controller)
    return pytest.mark.skipif(why is not None, reason=f"{controller} limits unavailable: {why}")


class Child:
    """The resource child as a process of role ``app``, talked to over its pipes."""

    def __init__(self, ctx: RealContext) -> None:
        self.process = ctx.spawn(
            "app", code=RUN, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        popen = ctx._children[self.process.pid][1]
        assert popen.stdin is not None
        assert popen.stdout is not None
        self.stdin: IO[str] = popen.stdin
        self.stdout: IO[str] = popen.stdout

    def ask(self, line: str) -> str:
        self.stdin.write(line + "\n")
        self.stdin.flush()
        return self.stdout.readline().strip()


def fire(ctx: RealContext, kind: str, options: dict[str, Any], index: int = 0) -> None:
    plugin = FAULTS.get(kind)
    plugin.run(plugin.spec.model_validate({"role": "app", **options}), ctx, Firing(index))


def action(ctx: RealContext, phase: str, index: int = 0) -> FaultAction:
    def found(event: Event) -> bool:
        return isinstance(event, FaultAction) and event.fault == index and event.phase == phase

    event = ctx.timeline.wait_for(found, timeout=DEADLINE)
    assert isinstance(event, FaultAction), f"no {phase} action of fault {index}"
    return event


def v1_path(pid: int, controller: Controller) -> str | None:
    with open(f"/proc/{pid}/cgroup", encoding="ascii") as handle:
        return limits.parse_v1_own(handle.read()).get(str(controller))


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def leftovers(ctx: RealContext) -> list[Path]:
    return [d for d in limits.v1_run_dirs(ctx.limits_.run_name) if d.exists()]


@pytest.fixture
def child(ctx: RealContext) -> Iterator[Child]:
    made = Child(ctx)
    try:
        yield made
    finally:
        made.stdin.close()
        made.stdout.close()


@needs(Controller.MEMORY)
def test_memory_limit_oom_kill_is_recorded_as_such(ctx: RealContext, child: Child) -> None:
    assert child.ask("grow 8") == "grew 8"  # before the limit: charged elsewhere
    fire(ctx, "memory_limit", {"limit": "32MiB", "for": "20s"})
    start = action(ctx, "start")
    assert start.pids == [child.process.pid]
    assert start.effect is Effect.NONE
    assert child.ask("grow 4") == "grew 4"  # under the limit: fine
    child.stdin.write("grow 128\n")
    child.stdin.flush()
    assert ctx.wait_exit(child.process, DEADLINE) == -signal.SIGKILL
    kill = action(ctx, "instant")
    assert kill.effect is Effect.ENDS
    assert kill.pids == [child.process.pid]
    assert kill.detail["cause"] == "oom_kill"
    notes = [e for e in ctx.timeline.events() if isinstance(e, HarnessNote)]
    assert any("OOM-killed" in n.message for n in notes)
    ctx.run_teardown()
    end = action(ctx, "end")
    assert "problems" not in end.detail
    ctx.limits_.close()
    backend = limits.backend_for(Controller.MEMORY, None)
    assert not isinstance(backend, str)
    run_dir = backend.parent / ctx.limits_.run_name
    assert not any(run_dir.glob("*-f0-p*")), "the limit group is still there"


@needs(Controller.MEMORY)
def test_memory_limit_is_lifted_after_for(ctx: RealContext, child: Child) -> None:
    home = v1_path(child.process.pid, Controller.MEMORY)
    fire(ctx, "memory_limit", {"limit": "16MiB", "for": "0.5s"})
    start = action(ctx, "start")
    assert v1_path(child.process.pid, Controller.MEMORY) != home
    action(ctx, "end")
    assert start.detail["cgroup_version"] in (1, 2)
    assert v1_path(child.process.pid, Controller.MEMORY) == home
    assert child.ask("grow 64") == "grew 64"  # no limit any more: not killed
    ends = [e for e in ctx.timeline.events() if isinstance(e, FaultAction) and e.effect == "ends"]
    assert not ends


@needs(Controller.CPU)
def test_cpu_throttle_holds_a_busy_loop_to_its_share(ctx: RealContext) -> None:
    busy = ctx.spawn("app", code=BUSY)
    fire(ctx, "cpu_throttle", {"percent": 10, "for": "20s"})
    action(ctx, "start")
    before, t0 = cpu_seconds(busy.pid), time.monotonic()
    wait_until(lambda: time.monotonic() - t0 >= 2.0, what="a 2 s window", interval=0.1)
    share = (cpu_seconds(busy.pid) - before) / (time.monotonic() - t0)
    assert share <= 0.20, f"a busy loop throttled to 10% used {share:.0%} of a core"
    ctx.run_teardown()
    end = action(ctx, "end")
    usage = end.detail.get("usage")
    assert isinstance(usage, dict)
    assert usage, "the throttle's CPU statistics are on the record"


@needs(Controller.PIDS)
def test_pids_limit_makes_fork_fail_and_is_lifted(ctx: RealContext, child: Child) -> None:
    assert child.ask("fork") == "forked"
    fire(ctx, "pids_limit", {"max": 1, "for": "1s"})
    action(ctx, "start")
    assert child.ask("fork") == "EAGAIN"
    action(ctx, "end")
    assert child.ask("fork") == "forked"


@needs(Controller.PIDS)
def test_a_limit_without_for_ends_at_teardown_and_leaves_nothing(
    ctx: RealContext, child: Child
) -> None:
    fire(ctx, "pids_limit", {"max": 4}, index=0)
    if _why(Controller.MEMORY) is None:
        fire(ctx, "memory_limit", {"limit": "64MiB"}, index=1)
    action(ctx, "start")
    assert leftovers(ctx), "the v1 run folder exists while a limit is on"
    ctx.close()
    assert not leftovers(ctx)


def test_a_missing_role_is_a_miss_with_the_intent(ctx: RealContext) -> None:
    fire(ctx, "memory_limit", {"role": "nobody", "limit": "16MiB"})
    miss = action(ctx, "miss")
    assert miss.effect is Effect.ENDS
    assert "nobody" in str(miss.detail["reason"])


def test_doctor_hierarchy_names_a_version_or_a_reason() -> None:
    for controller in Controller:
        found = hierarchy(controller)
        assert isinstance(found, str) or found.version in (1, 2)


@needs(Controller.PIDS)
def test_the_guardian_removes_v1_folders_of_a_killed_harness(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import subprocess, sys, time
        from harness.system import containment
        from harness.system.limits import Controller, Limits
        scope = containment.acquire()
        sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        lim = Limits("t1", str(scope.name), trial=None, v2_parent=None)
        group = lim.open(Controller.PIDS, "f0-p1", sleeper.pid, 0)
        group.apply(8)
        print(group.path, sleeper.pid, flush=True)
        time.sleep(60)
        """
    )
    harness = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=tmp_path
    )
    try:
        assert harness.stdout is not None
        path_text, pid_text = harness.stdout.readline().split()
        group = Path(path_text)
        assert group.exists()
        harness.kill()
        harness.wait(DEADLINE)
        wait_until(lambda: not group.parent.exists(), what="the guardian removing the run folder")
        wait_until(lambda: _gone(int(pid_text)), what="the moved sleeper ended")
    finally:
        if harness.poll() is None:
            harness.kill()
            harness.wait()
        if harness.stdout is not None:
            harness.stdout.close()


@needs(Controller.PIDS)
def test_the_next_run_reaps_v1_folders_of_a_dead_harness() -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    name = RunName(pid_namespace(), dead.pid, 1, 1)  # that pid's harness is gone
    backend = limits.backend_for(Controller.PIDS, None)
    assert not isinstance(backend, str)
    group = cgroups.Cgroup(backend.parent / str(name) / "t-f0-p1")
    group.create()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        group.add(sleeper.pid)
        lines = leftovers_mod.reap_v1()
        assert any(str(name) in line and "ended 1 process" in line for line in lines), lines
        assert sleeper.wait(DEADLINE) == -signal.SIGKILL
        assert not group.path.parent.exists()
    finally:
        if sleeper.poll() is None:
            sleeper.kill()
            sleeper.wait()
        if group.path.parent.exists():
            limits.remove_v1_run(group.path.parent)


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True

"""The tracker against real process trees: discovery, roles, exits, re-parenting, signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest
from support import wait_until

from harness.observe.events import Event, LogLine, PortListen, ProcessExit, ProcessStart
from harness.system.ports import free_port, release
from harness.system.process import TrackedProcess

from .rig import DEADLINE_S, PROGRAMS, Rig, program, role

ROLES = [role("main", root=True), role("worker", r"worker\.py")]


def _workers(rig: Rig, count: int) -> list[ProcessStart]:
    """Wait until ``count`` worker starts are recorded; all of them so far."""
    seen: list[ProcessStart] = []

    def enough(event: Event) -> bool:
        if isinstance(event, ProcessStart) and event.role == "worker":
            seen.append(event)
        return len(seen) >= count

    found = rig.timeline.wait_for(enough, DEADLINE_S)
    assert found is not None, f"fewer than {count} workers; {rig.recorded()}"
    return seen


def _ready_workers(rig: Rig, count: int) -> set[int]:
    """Wait until ``count`` workers said they installed their signal handlers."""
    ready: set[int] = set()

    def enough(event: Event) -> bool:
        if isinstance(event, LogLine) and event.line.startswith("worker ready "):
            ready.add(int(event.line.split()[-1]))
        return len(ready) >= count

    assert rig.timeline.wait_for(enough, DEADLINE_S) is not None, f"fewer than {count} ready"
    return ready


def test_children_are_seen_with_role_and_parent(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(ROLES)
    root = rig.launch(program("family.py", "2"))
    pids = {int(p) for p in rig.line(r"^family ready (.*)$").group(1).split()}
    starts = _workers(rig, 2)
    assert {s.pid for s in starts} == pids
    assert all(s.ppid == root.pid and s.instance == 0 and not s.root for s in starts)
    assert all("worker.py" in " ".join(s.cmdline) for s in starts)
    roots = [e for e in rig.timeline.of(ProcessStart) if e.root]
    assert [(e.pid, e.role) for e in roots] == [(root.pid, "main")]
    assert {p.pid for p in rig.tracker.processes(role="worker")} == pids


def test_spawn_at_runtime_and_exit_of_root_with_code(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(ROLES)
    root = rig.launch(program("family.py", "1"))
    rig.line("^family ready")
    _workers(rig, 1)
    (main,) = rig.tracker.processes(role="main")
    assert rig.tracker.signal(main, signal.SIGUSR2)
    starts = _workers(rig, 2)
    assert len({s.pid for s in starts}) == 2
    assert rig.tracker.signal(main, signal.SIGUSR1)  # the root exits 5, leaving its workers
    exit_event = rig.wait(ProcessExit, lambda e: e.pid == root.pid)
    assert (exit_event.code, exit_event.signal, exit_event.role) == (5, None, "main")
    assert root.returncode == 5
    assert not main.alive
    assert rig.tracker.signal(main, signal.SIGTERM) is False


def test_reparented_orphans_stay_tracked_and_are_reaped(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(ROLES)
    root = rig.launch(program("family.py", "2"))
    rig.line("^family ready")
    _workers(rig, 2)
    _ready_workers(rig, 2)
    (main,) = rig.tracker.processes(role="main")
    rig.tracker.signal(main, signal.SIGUSR1)
    rig.wait(ProcessExit, lambda e: e.pid == root.pid)
    orphans = rig.tracker.processes(role="worker")
    assert len(orphans) == 2, "the workers must stay tracked after their parent died"
    for orphan in orphans:
        with open(f"/proc/{orphan.pid}/stat") as stat:
            ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        assert ppid == os.getpid(), "orphans are re-parented to the subreaper"
    victim = orphans[0]
    assert rig.tracker.signal(victim, signal.SIGUSR1)
    gone = rig.wait(ProcessExit, lambda e: e.pid == victim.pid)
    assert (gone.code, gone.role) == (7, "worker"), "we reaped it, so we know its code"
    assert [p.pid for p in rig.tracker.processes(role="worker")] == [orphans[1].pid]


def test_killed_child_exit_is_recorded_and_restart_seen(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(ROLES)
    rig.launch(program("slow_restart.py"))
    first_pid = int(rig.line(r"^worker (\d+)$").group(1))
    (first,) = _workers(rig, 1)
    assert first.pid == first_pid
    (worker,) = rig.tracker.processes(role="worker")
    assert rig.tracker.signal(worker, signal.SIGKILL)
    died = rig.wait(ProcessExit, lambda e: e.pid == first_pid)
    assert died.role == "worker"
    second = rig.wait(ProcessStart, lambda e: e.role == "worker" and e.pid != first_pid)
    assert second.t > died.t
    assert [p.pid for p in rig.tracker.processes(role="worker")] == [second.pid]


def test_fork_then_exec_gets_the_exec_role(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(ROLES)
    root = rig.launch(program("fork_exec.py"))
    child_pid = int(rig.line(r"^forked (\d+)$").group(1))
    start = rig.wait(ProcessStart, lambda e: e.pid == child_pid)
    assert start.role == "worker", f"role decided before exec: {start.cmdline}"
    assert "worker.py" in " ".join(start.cmdline)
    assert start.ppid == root.pid
    assert [e.pid for e in rig.timeline.of(ProcessStart)].count(child_pid) == 1


def test_listening_port_recorded_once(make_rig: Callable[..., Rig]) -> None:
    port = free_port()
    try:
        rig = make_rig(ROLES, port_interval=0.05)
        root = rig.launch(program("serve.py", str(port)))
        listen = rig.wait(PortListen, lambda e: e.port == port)
        assert (listen.pid, listen.role, listen.address) == (root.pid, "main", "127.0.0.1")
        rig.tracker.wait_gone(timeout=0.3)  # several port scans pass while it is alive
        assert [e.port for e in rig.timeline.of(PortListen)].count(port) == 1
    finally:
        release(port)


@pytest.fixture
def outsider() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen([sys.executable, str(PROGRAMS / "worker.py")])
    yield proc
    proc.kill()
    proc.wait()


def test_outside_process_is_refused(
    make_rig: Callable[..., Rig], outsider: subprocess.Popen[bytes]
) -> None:
    rig = make_rig([role("anything", ".*")])
    rig.launch(program("family.py", "1"))
    _ready_workers(rig, 1)
    assert rig.tracker.get(outsider.pid) is None
    fake = TrackedProcess(
        pid=outsider.pid, ppid=os.getpid(), instance=0, role="anything", cmdline=[], started=0.0
    )
    with pytest.raises(PermissionError):
        rig.tracker.signal(fake, signal.SIGKILL)
    with pytest.raises(PermissionError):
        rig.tracker.set_frozen(fake, True)
    # A copy of a tracked process is not the tracked process either.
    real = rig.tracker.processes(role="anything")[0]
    clone = TrackedProcess(**{**real.__dict__})
    with pytest.raises(PermissionError):
        rig.tracker.signal(clone, signal.SIGKILL)
    assert outsider.poll() is None


def _family(make_rig: Callable[..., Rig], workers: int) -> Rig:
    """A rig running family.py with ``workers`` workers, all of them seen."""
    rig = make_rig(ROLES)
    rig.launch(program("family.py", str(workers)))
    rig.line("^family ready")
    _workers(rig, workers)
    return rig


def _kill_all_and_see_every_exit(rig: Rig) -> None:
    """SIGKILL the whole tree at once; once gone, every exit must be on the timeline."""
    for proc in rig.tracker.processes():
        rig.tracker.signal(proc, signal.SIGKILL)
    assert rig.tracker.wait_gone(timeout=DEADLINE_S), rig.recorded()
    exited = {e.pid for e in rig.timeline.of(ProcessExit)}
    assert {p.pid for p in rig.tracker.processes(alive_only=False)} <= exited


def test_gone_only_once_every_exit_is_on_the_timeline(make_rig: Callable[..., Rig]) -> None:
    """Whoever sees ``wait_gone`` succeed must find each exit recorded (teardown reads them)."""
    rig = _family(make_rig, 6)
    early: list[str] = []

    def check(event: Event) -> None:
        # Runs on the tracker thread as each exit is recorded, often mid-batch.
        if isinstance(event, ProcessExit) and rig.tracker.wait_gone(timeout=0):
            exited = {e.pid for e in rig.timeline.of(ProcessExit)}
            tracked = {p.pid for p in rig.tracker.processes(alive_only=False)}
            if tracked - exited:
                early.append(f"gone while exits of {sorted(tracked - exited)} were unrecorded")

    rig.timeline.subscribe(check)
    _kill_all_and_see_every_exit(rig)
    assert early == []


def test_a_failing_subscriber_loses_no_exit(make_rig: Callable[..., Rig]) -> None:
    """A subscriber that raises (an on_spawn fault's bug) must not hide later exits."""
    rig = _family(make_rig, 4)
    raised: list[int] = []

    def broken(event: Event) -> None:
        if isinstance(event, ProcessExit) and not raised:
            raised.append(event.pid)
            raise RuntimeError("a subscriber's own bug")

    rig.timeline.subscribe(broken)
    _kill_all_and_see_every_exit(rig)
    assert raised, "the subscriber saw an exit"


def test_an_unreaped_dead_child_is_not_seen_again_as_new(make_rig: Callable[..., Rig]) -> None:
    """family.py never reaps its workers: once dead they stay listed (zombies) as its children."""
    rig = make_rig(ROLES)
    rig.launch(program("family.py", "2"))
    rig.line("^family ready")
    workers = {s.pid for s in _workers(rig, 2)}
    for proc in rig.tracker.processes(role="worker"):
        rig.tracker.signal(proc, signal.SIGKILL)
    exited: set[int] = set()

    def all_exited(event: Event) -> bool:
        if isinstance(event, ProcessExit):
            exited.add(event.pid)
        return workers <= exited

    assert rig.timeline.wait_for(all_exited, DEADLINE_S) is not None, rig.recorded()
    (main,) = rig.tracker.processes(role="main")
    assert rig.tracker.signal(main, signal.SIGUSR2)  # one more worker: scans list the zombies
    rig.wait(ProcessStart, lambda e: e.role == "worker" and e.pid not in workers)
    rig.tracker.decide_pending()
    starts = [e.pid for e in rig.timeline.of(ProcessStart) if e.pid in workers]
    assert sorted(starts) == sorted(workers), "a zombie was tracked as a new process"
    assert len(rig.tracker.processes(role="worker")) == 1


def test_dead_children_a_killed_root_never_reaped_are_reaped_once_they_are_ours(
    make_rig: Callable[..., Rig],
) -> None:
    """family.py never reaps its workers: killed, they stay its zombies. When family.py is
    SIGKILLed too, the kernel hands those zombies to the harness (the subreaper), and the
    tracker, which found them not its own to reap at their exit, must reap them then."""
    rig = make_rig(ROLES)
    root = rig.launch(program("family.py", "2"))
    rig.line("^family ready")
    workers = {s.pid for s in _workers(rig, 2)}
    for proc in rig.tracker.processes(role="worker"):
        rig.tracker.signal(proc, signal.SIGKILL)
    for pid in workers:
        rig.wait(ProcessExit, lambda e, pid=pid: e.pid == pid)
    assert all(_state(pid) == "Z" for pid in workers), "zombies of family.py"
    (main,) = rig.tracker.processes(role="main")
    rig.tracker.signal(main, signal.SIGKILL)
    rig.wait(ProcessExit, lambda e: e.pid == root.pid)

    wait_until(
        lambda: all(_state(pid) is None for pid in workers),
        what="the harness to reap the zombies handed to it",
        timeout=DEADLINE_S,
    )


def _state(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return None


def test_a_root_being_launched_is_never_adopted_as_an_orphan(make_rig: Callable[..., Rig]) -> None:
    """A new root is a marked child of the harness, like an orphan, until add_root: the
    tracker must not adopt it meanwhile (it would be tracked twice, once as a non-root)."""
    rig = make_rig(ROLES, thread=False, port_interval=0.001, idle_port_interval=0.001)
    rig.launch(program("family.py", "1"))  # the trial is known: its orphans are adopted
    with rig.tracker.launching():
        second = rig.spawn(program("family.py", "1"), instance=1)
        rig.wait(LogLine, lambda e: e.instance == 1 and e.line.startswith("family ready"))
        # Drive tracker rounds (each adopts orphans) while the root is not yet added.
        assert not rig.tracker.wait_gone(instance=0, timeout=0.3)
        rig.tracker.add_root(second.pid, 1)
    starts = [e for e in rig.timeline.of(ProcessStart) if e.pid == second.pid]
    assert [(e.root, e.role) for e in starts] == [(True, "main")]

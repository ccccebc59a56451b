"""A real launcher + tracker + teardown for one test, always torn down at the end.

By default the system is held by the marker and found by /proc scans (the fallback);
``cgroup=True`` puts it in a trial cgroup of a run scope of its own (with its guardian),
``events=True`` has the tracker learn of processes from the kernel's process events. A
host that cannot do either skips the test, saying why.
"""

from __future__ import annotations

import re
import signal
import sys
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest

from harness.errors import HostError
from harness.observe.events import Event, LogLine
from harness.observe.timeline import Timeline
from harness.system import host, procevents
from harness.system.containment import RunScope, TrialCgroup
from harness.system.launcher import Launched, launch
from harness.system.teardown import TeardownReport, teardown
from harness.system.tracker import ProcessTracker, RoleMatcher

PROGRAMS = Path(__file__).resolve().parent.parent / "programs"
DEADLINE_S = 20.0
E = TypeVar("E", bound=Event)


def program(name: str, *args: str) -> list[str]:
    """The command line running one of the test programs."""
    return [sys.executable, str(PROGRAMS / name), *args]


def role(name: str, pattern: str | None = None, *, root: bool = False) -> RoleMatcher:
    return RoleMatcher(name=name, root=root, cmdline=re.compile(pattern) if pattern else None)


class Rig:
    """One trial's worth of real system machinery."""

    def __init__(
        self,
        cwd: Path,
        roles: Sequence[RoleMatcher],
        *,
        thread: bool = True,
        cgroup: bool = False,
        events: bool = False,
        instances: int = 1,
        **tracker_options: Any,
    ) -> None:
        self.cwd = cwd
        self.timeline = Timeline()
        self.trial_id = uuid.uuid4().hex
        self.scope: RunScope | None = None
        self.cgroup: TrialCgroup | None = None
        self.hub: procevents.ProcEventHub | None = None
        self._closed = False
        self.launched: list[Launched] = []
        self.reports: list[TeardownReport] = []
        try:
            if cgroup:
                self.scope = RunScope(required_cgroup(), host.process_events({}))
                self.cgroup = self.scope.trial(self.trial_id, instances)
            if events:
                required_events()
                self.hub = procevents.acquire()
            self.tracker = ProcessTracker(
                self.timeline, roles, cgroup=self.cgroup, events=self.hub, **tracker_options
            )
        except BaseException:
            self._give_back()
            raise
        if thread:  # else the test drives each round itself (wait_gone pumps when idle)
            self.tracker.start()

    def launch(
        self, command: list[str], instance: int = 0, *, daemonizes: bool = False
    ) -> Launched:
        with self.tracker.launching():
            return self.spawn(
                command,
                instance,
                on_pid=lambda pid: self.tracker.add_root(
                    pid, instance, trial_id=self.trial_id, command=command, daemonizes=daemonizes
                ),
            )

    def spawn(
        self, command: list[str], instance: int = 0, on_pid: Callable[[int], object] | None = None
    ) -> Launched:
        """Launch marked (into the trial's cgroup, if any), without telling the tracker
        unless ``on_pid`` does (``launch`` does both)."""
        proc = launch(
            command,
            instance=instance,
            env={},
            cwd=self.cwd,
            timeline=self.timeline,
            trial_id=self.trial_id,
            cgroup_procs=self.cgroup.procs_file(instance) if self.cgroup else None,
            on_pid=on_pid,
        )
        self.launched.append(proc)
        return proc

    def wait(self, kind: type[E], predicate: Callable[[E], bool] = lambda _: True) -> E:
        """The first event of ``kind`` matching ``predicate``, waiting up to the deadline."""
        found = self.timeline.wait_for(lambda e: isinstance(e, kind) and predicate(e), DEADLINE_S)
        if found is None:
            raise AssertionError(
                f"no matching {kind.__name__} event within {DEADLINE_S}s; {self.recorded()}"
            )
        assert isinstance(found, kind)
        return found

    def recorded(self) -> str:
        """The last events recorded, for a failure message."""
        lines = "\n".join(f"  {e!r}"[:240] for e in self.timeline.events()[-40:])
        return f"recorded:\n{lines}"

    def line(self, pattern: str) -> re.Match[str]:
        """Wait for an output line matching ``pattern``; its match."""
        regex = re.compile(pattern)
        event = self.wait(LogLine, lambda e: regex.search(e.line) is not None)
        match = regex.search(event.line)
        assert match is not None
        return match

    def teardown(self, stop_signal: int = signal.SIGTERM, grace: float = 5.0) -> TeardownReport:
        roots = [p for p in self.tracker.processes(alive_only=False) if p.root]
        report = teardown(
            self.tracker,
            roots,
            stop_signal=stop_signal,
            grace=grace,
            timeline=self.timeline,
            trial_id=self.trial_id,
        )
        self.reports.append(report)
        return report

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self.teardown()
        finally:
            self.tracker.stop()
            for proc in self.launched:
                proc.close()
            self._give_back()

    def _give_back(self) -> None:
        if self.cgroup is not None:
            self.cgroup.kill_all()
            self.cgroup.remove()
        if self.hub is not None:
            procevents.release(self.hub)
            self.hub = None
        if self.scope is not None:
            self.scope.close()
            self.scope = None


def required_cgroup() -> host.ContainmentChoice:
    """The host's cgroup containment, or skip the test saying why there is none."""
    try:
        return host.containment({host.CONTAINMENT_ENV: "cgroup"})
    except HostError as exc:
        pytest.skip(f"no cgroup containment here: {exc}")


def required_events() -> None:
    """Skip the test unless kernel process events arrive on this host."""
    try:
        host.process_events({host.EVENTS_ENV: "netlink"})
    except HostError as exc:
        pytest.skip(f"no kernel process events here: {exc}")

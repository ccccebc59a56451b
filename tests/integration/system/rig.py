"""A real launcher + tracker + teardown for one test, always torn down at the end."""

from __future__ import annotations

import re
import signal
import sys
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from harness.observe.events import Event, LogLine
from harness.observe.timeline import Timeline
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
        **tracker_options: Any,
    ) -> None:
        self.cwd = cwd
        self.timeline = Timeline()
        self.trial_id = uuid.uuid4().hex
        self.tracker = ProcessTracker(self.timeline, roles, **tracker_options)
        if thread:  # else the test drives each round itself (wait_gone pumps when idle)
            self.tracker.start()
        self.launched: list[Launched] = []
        self.reports: list[TeardownReport] = []
        self._closed = False

    def launch(self, command: list[str], instance: int = 0) -> Launched:
        with self.tracker.launching():
            proc = self.spawn(command, instance)
            self.tracker.add_root(proc.pid, instance, trial_id=self.trial_id, command=command)
        return proc

    def spawn(self, command: list[str], instance: int = 0) -> Launched:
        """Launch marked, without telling the tracker (``launch`` does both)."""
        proc = launch(
            command,
            instance=instance,
            env={},
            cwd=self.cwd,
            timeline=self.timeline,
            trial_id=self.trial_id,
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

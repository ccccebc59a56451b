"""Teardown: stop the system gracefully, sweep what is left, then end what escaped.

Order matters and every step is recorded (``Teardown`` events), because a system that
needs the sweep or leaves orphans is itself a finding (the ``no_orphans`` invariant reads
them). Every signal to a process goes through the tracker's pidfds. What escaped the
tracker is ended last: with a trial cgroup, by freezing it, listing it and ``cgroup.kill``
(each pid listed is recorded as an ``orphan`` kill, detail ``via: cgroup.kill``), waiting
until it is empty; without one, by the marker hunt (a pidfd opened, then checked for this
trial's marker). Safe to call twice, or after anything failed: what is already gone is
skipped.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from harness.observe.events import Teardown, TeardownStep
from harness.observe.timeline import Timeline
from harness.system.containment import TrialCgroup
from harness.system.marker import find_marked
from harness.system.pidfd import kill_if_marked
from harness.system.process import TrackedProcess
from harness.system.tracker import ProcessTracker

_SWEEP_ROUNDS = 5
_SWEEP_WAIT_S = 5.0
_ORPHAN_ROUNDS = 5


@dataclass
class TeardownReport:
    """What teardown had to do; empty lists mean the system stopped by itself."""

    stopped: list[int] = field(default_factory=list)
    swept: list[int] = field(default_factory=list)
    orphans: list[int] = field(default_factory=list)
    survivors: list[int] = field(default_factory=list)
    graceful: bool = True
    elapsed_s: float = 0.0

    @property
    def clean(self) -> bool:
        """Nothing needed killing and nothing is left."""
        return not self.swept and not self.orphans and not self.survivors


def teardown(
    tracker: ProcessTracker,
    roots: Sequence[TrackedProcess],
    *,
    stop_signal: int,
    grace: float,
    timeline: Timeline,
    trial_id: str,
    cgroup: TrialCgroup | None = None,
) -> TeardownReport:
    """Stop ``roots`` with ``stop_signal``, wait ``grace``, SIGKILL survivors, kill escapees.

    ``cgroup``: the trial's (default: the tracker's); it ends what escaped the tracker.
    """
    began = time.monotonic()
    report = TeardownReport()
    cgroup = cgroup or tracker.cgroup
    name = signal.Signals(stop_signal).name
    for root in roots:
        if root.alive and tracker.signal(root, stop_signal):
            report.stopped.append(root.pid)
            _record(timeline, TeardownStep.STOP, root, {"signal": name})
    report.graceful = tracker.wait_gone(timeout=grace) if report.stopped else True
    _sweep(tracker, timeline, report)
    if cgroup is not None:
        _kill_cgroup(cgroup, timeline, report)
    else:
        _hunt_orphans(trial_id, timeline, report)
    tracker.wait_gone(timeout=_SWEEP_WAIT_S)  # the tracker records the orphans it knew
    report.survivors = [p.pid for p in tracker.processes()]
    report.elapsed_s = time.monotonic() - began
    return report


def _sweep(tracker: ProcessTracker, timeline: Timeline, report: TeardownReport) -> None:
    """SIGKILL every tracked process still alive (then SIGCONT a frozen one), until none."""
    for _ in range(_SWEEP_ROUNDS):
        tracker.decide_pending()
        survivors = tracker.processes()
        if not survivors:
            return
        for proc in survivors:
            frozen = proc.frozen
            if tracker.signal(proc, signal.SIGKILL):
                if frozen:
                    tracker.signal(proc, signal.SIGCONT)
                report.swept.append(proc.pid)
                _record(timeline, TeardownStep.SWEEP, proc, {"frozen": frozen})
        tracker.wait_gone(timeout=_SWEEP_WAIT_S)


def _hunt_orphans(trial_id: str, timeline: Timeline, report: TeardownReport) -> None:
    """Kill processes carrying this trial's marker that escaped the tree (daemonised)."""
    me = os.getpid()
    for _ in range(_ORPHAN_ROUNDS):
        found = [pid for pid in find_marked(trial_id) if pid != me]
        if not found:
            return
        for pid in found:
            if kill_if_marked(pid, lambda m: m.trial_id == trial_id):
                report.orphans.append(pid)
                timeline.record(
                    Teardown(
                        t=timeline.now(),
                        action=TeardownStep.ORPHAN,
                        pid=pid,
                        detail={"signal": "SIGKILL"},
                    )
                )


def _kill_cgroup(cgroup: TrialCgroup, timeline: Timeline, report: TeardownReport) -> None:
    """``cgroup.kill`` whatever is still in the trial's cgroup; record each pid it ended."""
    for pid in cgroup.kill_all():
        report.orphans.append(pid)
        timeline.record(
            Teardown(
                t=timeline.now(),
                action=TeardownStep.ORPHAN,
                pid=pid,
                detail={"signal": "SIGKILL", "via": "cgroup.kill"},
            )
        )


def _record(
    timeline: Timeline, action: TeardownStep, proc: TrackedProcess, detail: dict[str, object]
) -> None:
    timeline.record(
        Teardown(
            t=timeline.now(),
            action=action,
            pid=proc.pid,
            instance=proc.instance,
            role=proc.role,
            detail=dict(detail),
        )
    )

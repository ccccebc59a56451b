"""The trial context: what faults and end-of-trial collectors may touch, and nothing more.

It implements ``FaultContext`` (faults) and ``CollectContext`` (invariant collectors) over
one trial's tracker, timeline and resolved templates. Every signal goes through the
tracker's pidfds, so a fault can only reach processes of this trial's own system tree.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from harness.disks import Disk, DiskSet
from harness.faults.once import Once
from harness.observe.events import HarnessNote, NoteLevel
from harness.observe.http import http_json
from harness.observe.timeline import Timeline
from harness.proxy import Proxy, ProxySet
from harness.scenario.templates import resolve
from harness.system.limits import Limits
from harness.system.process import TrackedProcess
from harness.system.tracker import ProcessTracker


class TrialContext:
    """One trial's handle on its own system: processes, signals, templates, timers."""

    def __init__(
        self,
        *,
        timeline: Timeline,
        tracker: ProcessTracker,
        values: list[dict[str, str]],
        seed: int,
        deadline: float,
        proxies: ProxySet | None = None,
        disks: DiskSet | None = None,
        limits: Limits | None = None,
    ) -> None:
        self._timeline = timeline
        self._limits = limits or Limits(
            "trial", "run", trial=None, v2_parent=None, refuse="no resource limits in this context"
        )
        self._proxies = proxies or ProxySet()
        self._disks = disks or DiskSet()
        self._tracker = tracker
        self._values = values
        self._rng = random.Random(seed)
        self._stopping = threading.Event()
        self._timers: list[tuple[threading.Timer, Once]] = []
        self._teardown_actions: list[Once] = []
        self._lock = threading.Lock()
        self.deadline = deadline
        self.settle_started = time.monotonic()
        """Set again by the settle step when traffic has stopped."""

    # ------------------------------------------------------------------ FaultContext

    @property
    def timeline(self) -> Timeline:
        return self._timeline

    @property
    def rng(self) -> random.Random:
        return self._rng

    @property
    def stopping(self) -> threading.Event:
        return self._stopping

    def processes(
        self, role: str | None = None, instance: int | None = None
    ) -> list[TrackedProcess]:
        return self._tracker.processes(role=role, instance=instance)

    def signal(self, process: TrackedProcess, signum: int) -> bool:
        return self._tracker.signal(process, signum)

    def resolve(self, template: str, instance: int = 0) -> str:
        return resolve(template, self.values(instance))

    def values(self, instance: int = 0) -> Mapping[str, str]:
        """The template values of one instance (``{port}``, ``{run_dir}``, ``{ready.X}``...)."""
        return self._values[min(instance, len(self._values) - 1)]

    def later(self, delay: float, action: Callable[[], None]) -> None:
        once = Once(self._guarded(action))
        with self._lock:
            late = self._stopping.is_set()
            if not late:
                timer = threading.Timer(max(0.0, delay), once)
                timer.daemon = True
                self._timers.append((timer, once))
                self._teardown_actions.append(once)
        if late:  # the trial is ending: an undo runs now, never after the teardown
            once()
            return
        timer.start()

    def proxy(self, name: str, instance: int = 0) -> Proxy:
        return self._proxies.get(name, instance)

    def disk(self, name: str, instance: int = 0) -> Disk:
        return self._disks.get(name, instance)

    def limits(self) -> Limits:
        return self._limits

    def on_teardown(self, action: Callable[[], None]) -> None:
        once = Once(self._guarded(action))
        with self._lock:
            late = self._stopping.is_set()
            if not late:
                self._teardown_actions.append(once)
        if late:
            once()

    # ------------------------------------------------------------------ CollectContext

    def http_json(
        self, method: str, url: str, timeout: float
    ) -> tuple[int | None, Any, str | None]:
        answer = http_json(method, url, timeout=timeout)
        return answer.status, answer.value, answer.error

    # ------------------------------------------------------------------ lifecycle

    def run_teardown_actions(self) -> None:
        """Cancel pending timers and run every pending action now (thaw, release...)."""
        with self._lock:
            self._stopping.set()
            timers = list(self._timers)
            actions = list(self._teardown_actions)
        for timer, _ in timers:
            timer.cancel()
        for action in actions:
            action()

    def _guarded(self, action: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                action()
            except Exception as exc:  # a fault's clean-up must never end the trial
                self._timeline.record(
                    HarnessNote(t=self._timeline.now(), level=NoteLevel.ERROR, message=repr(exc))
                )

        return run

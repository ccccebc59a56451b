"""The traffic of one trial: its probes and workloads, started once the system is ready.

Probes take one reading each first (the steady state), then poll; workloads send at their
rate. Both are stopped before the system is torn down, and their threads are waited for
(bounded) after it: a dead system resets the requests that outlived the stop.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

from harness.observe.poller import ProbePoller
from harness.observe.timeline import Timeline
from harness.scenario.model import Scenario
from harness.workload.engine import Workload

Resolve = Callable[[str, int], str]

JOIN_S = 5.0
"""How long teardown waits for workload and probe requests still hanging after stop."""


class Traffic:
    """Every probe and workload of a scenario, for one trial's system."""

    def __init__(self, scenario: Scenario, resolve: Resolve, timeline: Timeline) -> None:
        self._scenario = scenario
        self._resolve = resolve
        self._timeline = timeline
        self.pollers: list[ProbePoller] = []
        self.workloads: list[Workload] = []

    def start(self) -> None:
        """Probes first (one reading each: the steady state), then the workloads."""
        instances = self._scenario.system.instances
        self.pollers = [
            ProbePoller(name, spec, self._resolve, self._timeline, instances)
            for name, spec in self._scenario.probes.items()
        ]
        for poller in self.pollers:
            poller.read_once()
            poller.start()
        self.workloads = [
            Workload(spec, self._resolve, self._timeline, instances)
            for spec in self._scenario.workload
        ]
        for workload in self.workloads:
            workload.start()

    def stop(self, drain: float) -> None:
        """Stop sending (in-flight answers get ``drain`` seconds) and stop polling.

        Every one is stopped even if another fails; the first error is raised after.
        """
        stops: list[Callable[[], object]] = [
            *[functools.partial(w.stop, drain_timeout=drain) for w in self.workloads],
            *[p.stop for p in self.pollers],
        ]
        first: BaseException | None = None
        for stop in stops:
            try:
                stop()
            except BaseException as exc:
                first = first or exc
        if first is not None:
            raise first

    def final_readings(self) -> None:
        """One last reading of every probe (``probe: {at: end}`` judges it)."""
        for poller in self.pollers:
            poller.read_once()

    def join(self, timeout: float = JOIN_S) -> list[str]:
        """Wait (bounded) for requests that outlived ``stop``; the names still hanging."""
        deadline = time.monotonic() + timeout
        hanging = [w.spec.name for w in self.workloads if not w.join(deadline - time.monotonic())]
        hanging += [p.name for p in self.pollers if not p.join(deadline - time.monotonic())]
        return hanging

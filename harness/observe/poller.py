"""The probe poller: named, periodic readings of what the system says about itself.

A probe only records (``ProbeResult``); invariants decide what a reading means, at start,
at end or continuously. Readings run on a fixed cadence (``every``); a reading that took
longer than the interval skips the missed ticks instead of bursting to catch up. How one
reading is taken is the probe kind's business (``harness.observe.probes``).
"""

from __future__ import annotations

import threading
import time

from harness.observe.events import ProbeResult
from harness.observe.probes.base import ProbePlugin, Resolve
from harness.observe.probes.registry import PROBES
from harness.observe.timeline import Timeline
from harness.scenario.model import ProbeEntry
from harness.spec.registry import Registry


class ProbePoller:
    """Polls one probe on every targeted instance until stopped."""

    def __init__(
        self,
        name: str,
        spec: ProbeEntry,
        resolve: Resolve,
        timeline: Timeline,
        instances: int,
        *,
        kinds: Registry[ProbePlugin] = PROBES,
    ) -> None:
        self.name = name
        self.spec = spec
        self._kind = kinds.get(spec.kind)
        self._resolve = resolve
        self._timeline = timeline
        self._targets = [spec.instance] if spec.instance is not None else list(range(instances))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def read_once(self) -> list[ProbeResult]:
        """One reading of every targeted instance, recorded and returned (start/end)."""
        return [self._read(instance) for instance in self._targets]

    def start(self) -> None:
        """Poll every ``every`` on a background thread."""
        if self._thread is not None:
            raise RuntimeError(f"probe {self.name!r} started twice")
        self._thread = threading.Thread(
            target=self._poll, name=f"chaos-probe-{self.name}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float | None = None) -> bool:
        """Stop polling; waits for a reading in progress (bounded by its HTTP timeout).

        Returns whether the polling thread has ended.
        """
        self._stop.set()
        if timeout is None:
            timeout = self._kind.longest(self.spec.spec) + 1.0
        return self.join(timeout)

    def join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` for the polling thread to end; whether it has."""
        thread = self._thread
        if thread is None:
            return True
        thread.join(max(0.0, timeout))
        return not thread.is_alive()

    def _poll(self) -> None:
        every = self.spec.every
        due = time.monotonic() + every
        while not self._stop.wait(max(0.0, due - time.monotonic())):
            for instance in self._targets:
                if self._stop.is_set():  # one hung instance at most delays stop()
                    break
                self._read(instance)
            due += every
            now = time.monotonic()
            if due < now:  # fell behind: skip the missed ticks
                due = now + every

    def _read(self, instance: int) -> ProbeResult:
        sent = self._timeline.now()
        try:
            reading = self._kind.take(self.spec.spec, self._resolve, instance)
        except Exception as exc:  # a bad URL or our own bug: a failed reading, on the record
            result = ProbeResult(
                t=sent,
                name=self.name,
                instance=instance,
                ok=False,
                error=repr(exc),
                latency_s=self._timeline.now() - sent,
            )
        else:
            result = ProbeResult(
                t=sent,
                name=self.name,
                instance=instance,
                ok=reading.ok,
                status=reading.status,
                value=reading.value,
                error=reading.error,
                latency_s=reading.latency_s,
            )
        self._timeline.record(result)
        return result

"""Open-loop load: requests at a fixed rate, whatever the system's answers look like.

The engine is the same for every workload kind (``harness.workload.registry``): a kind's
client says what one request saw, the engine decides when to send and records each
outcome as a ``Request`` with its latency (send to answer, a wait for a pooled connection
included, as a real client's user waits), so availability and latency mean the same
whatever the kind.

Send times are scheduled (``start + k / rate``) rather than "sleep after each answer", so a
slow or dead system does not quietly lower the load (coordinated omission). At most
``concurrency`` requests are in flight; a send that finds them all busy is recorded as a
failed ``overload`` request, never dropped, and so is one still in flight when the
workload stops and its drain time runs out.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from harness.observe.events import Request
from harness.observe.http import at_path, compact
from harness.observe.timeline import Timeline
from harness.scenario.model import WorkloadSpec
from harness.workload.base import Answer, Client, Target
from harness.workload.registry import WORKLOADS

Resolve = Callable[[str, int], str]
"""``resolve(template, instance)``: the trial's template expansion."""

_BODY_LIMIT = 1024


class Workload:
    """One named workload of a scenario, sending to one instance or round-robin to all."""

    def __init__(
        self, spec: WorkloadSpec, resolve: Resolve, timeline: Timeline, instances: int
    ) -> None:
        self.spec = spec
        self._resolve = resolve
        self._timeline = timeline
        self._targets = [spec.instance] if spec.instance is not None else list(range(instances))
        self._stop = threading.Event()
        self._idle = threading.Condition()
        self._in_flight: dict[int, tuple[float, int]] = {}
        """Request number → (send time, instance) of every request not yet recorded."""
        self._sending = 0
        """Sends submitted and not yet returned (outlive stop() when the system hangs)."""
        self._clients: dict[int, Client] = {}
        self._kind = WORKLOADS.get(spec.kind)
        self._pool: ThreadPoolExecutor | None = None
        self._scheduler: threading.Thread | None = None
        self._stopped = False
        self.sent = 0
        """Requests scheduled so far (overloads included)."""

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Open a client per instance (loopback only: ``ValueError``) and begin sending."""
        if self._scheduler is not None:
            raise RuntimeError(f"workload {self.spec.name!r} started twice")
        for instance in self._targets:
            target = Target(instance, _bound(self._resolve, instance))
            try:
                self._clients[instance] = self._kind.connect(self.spec.spec, target)
            except ValueError as exc:
                self._close_clients()
                raise ValueError(f"workload {self.spec.name!r}: {exc}") from None
        self._pool = ThreadPoolExecutor(
            self.spec.concurrency, thread_name_prefix=f"chaos-load-{self.spec.name}"
        )
        self._scheduler = threading.Thread(
            target=self._schedule, name=f"chaos-load-{self.spec.name}", daemon=True
        )
        self._scheduler.start()

    def stop(self, drain_timeout: float = 5.0) -> None:
        """Stop sending; wait up to ``drain_timeout`` for in-flight answers. Idempotent."""
        self._stop.set()
        if self._stopped or self._scheduler is None:
            return
        self._stopped = True
        self._scheduler.join()
        deadline = time.monotonic() + drain_timeout
        with self._idle:
            while self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._idle.wait(remaining)
            unfinished = sorted(self._in_flight.items())
            self._in_flight.clear()
        for _, (sent, instance) in unfinished:
            self._record(
                sent,
                instance,
                None,
                error=f"unfinished: no answer within the {drain_timeout:g}s drain at stop",
                latency=self._timeline.now() - sent,
            )
        assert self._pool is not None
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._close_clients()

    def _close_clients(self) -> None:
        """Give back connections and kill running programs: hung calls return soon."""
        for client in self._clients.values():
            client.close()

    def join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` for sends still hanging after ``stop``; whether none is.

        Call it once the system is torn down: a dead server resets their connections.
        """
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._sending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    # ------------------------------------------------------------------ sending

    def _schedule(self) -> None:
        assert self._pool is not None
        interval = 1.0 / self.spec.rate
        begin = time.monotonic()
        number = 0
        while not self._stop.is_set():
            wait = begin + number * interval - time.monotonic()
            if wait > 0:
                if self._stop.wait(wait):
                    break
                continue
            instance = self._targets[number % len(self._targets)]
            now = self._timeline.now()
            with self._idle:
                busy = len(self._in_flight)
                admitted = busy < self.spec.concurrency
                if admitted:
                    self._in_flight[number] = (now, instance)
                    self._sending += 1
            if not admitted:
                self._record(now, instance, None, error=f"overload: {busy} in flight")
            elif (refused := self._submit(number, instance)) is not None:
                self._record(now, instance, None, error=f"not sent: {refused!r}")
            number += 1
            self.sent = number

    def _submit(self, number: int, instance: int) -> Exception | None:
        """Hand one admitted send to the pool; the error if no thread could take it."""
        assert self._pool is not None
        try:
            future = self._pool.submit(self._send, number, instance)
        except RuntimeError as exc:  # no thread to be had (thread or pid limit): on record
            with self._idle:
                self._in_flight.pop(number, None)
                self._sending -= 1
                self._idle.notify_all()
            return exc
        future.add_done_callback(self._done)
        return None

    def _send(self, number: int, instance: int) -> None:
        with self._idle:
            if number not in self._in_flight:  # recorded already: not sent, or stop() ran
                return
        sent = self._timeline.now()
        try:
            outcome = self._clients[instance].call()
        except Exception as exc:  # our own bug: still one recorded outcome per request
            outcome = Answer(error=repr(exc))
        latency = self._timeline.now() - sent
        with self._idle:
            claimed = self._in_flight.pop(number, None) is not None
            self._idle.notify_all()
        if claimed:  # else stop() already recorded it as unfinished
            self._record(sent, instance, outcome, latency=latency)

    def _done(self, _: Future[None]) -> None:
        """A send returned or was cancelled before it ran."""
        with self._idle:
            self._sending -= 1
            self._idle.notify_all()

    def _record(
        self,
        sent: float,
        instance: int,
        answer: Answer | None,
        *,
        error: str | None = None,
        latency: float = 0.0,
    ) -> None:
        if answer is None:
            event = Request(
                t=sent,
                workload=self.spec.name,
                instance=instance,
                ok=False,
                latency_s=latency,
                error=error,
            )
        else:
            ok = self._is_ok(answer)
            recorded: Any = None
            if ok and self.spec.record and answer.structured:
                recorded = at_path(answer.value, self.spec.record)
            event = Request(
                t=sent,
                workload=self.spec.name,
                instance=instance,
                ok=ok,
                status=answer.status,
                latency_s=latency,
                error=answer.error,
                recorded=recorded,
                body=compact(answer.value, _BODY_LIMIT),
            )
        self._timeline.record(event)

    def _is_ok(self, outcome: Answer) -> bool:
        if outcome.ok is not None:
            return outcome.ok
        status = outcome.status
        if status is None:
            return False
        if self.spec.ok_status is not None:
            return status in self.spec.ok_status
        default = self._kind.ok_default
        return default is not None and default(status)


def _bound(resolve: Resolve, instance: int) -> Callable[[str], str]:
    """``resolve`` with the instance fixed: what a client of that instance expands with."""
    return lambda template: resolve(template, instance)

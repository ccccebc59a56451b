"""The nemesis: runs a scenario's fault schedule, and only that.

Three triggers: ``before: start`` (run synchronously before the system is launched),
``at`` (seconds after the system became ready, on one timer thread that sleeps on an
``Event`` until the next due fault) and ``on_spawn`` (the nth ``ProcessStart`` of a role
after ready, handled synchronously in the timeline subscriber so a freeze lands within
milliseconds of the spawn). A fault that raises is recorded (a ``HarnessNote`` and a
``miss``), never allowed to end the trial.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Callable, Sequence

from harness.faults.base import FaultContext, FaultPlugin, Firing
from harness.faults.registry import FAULTS
from harness.observe.events import (
    Event,
    FaultAction,
    FaultPhase,
    HarnessNote,
    NoteLevel,
    ProcessStart,
)
from harness.scenario.model import FaultEntry
from harness.spec.effects import Effect
from harness.spec.registry import Registry
from harness.system.process import TrackedProcess

_Due = tuple[float, int, FaultEntry]


class Nemesis:
    """Schedules ``entries`` against one trial's ``ctx``."""

    def __init__(
        self,
        entries: Sequence[FaultEntry],
        ctx: FaultContext,
        *,
        faults: Registry[FaultPlugin] = FAULTS,
    ) -> None:
        self._entries = list(entries)
        self._ctx = ctx
        self._faults = faults
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._spawn_entries = [e for e in self._entries if e.on_spawn is not None]
        self._spawns_seen: dict[int, int] = {e.index: 0 for e in self._spawn_entries}
        self._starts_handled: set[tuple[int, float]] = set()
        self._ready_t = 0.0
        self._started = False

    # ------------------------------------------------------------------ triggers

    def before_start(self) -> None:
        """Run every ``before: start`` fault now, in schedule order."""
        for entry in self._entries:
            if entry.before == "start":
                self._inject(entry, None)

    def start(self, ready_t: float) -> None:
        """Arm the ``at`` and ``on_spawn`` faults; ``ready_t`` is trial time of readiness."""
        with self._lock:
            if self._started:
                raise RuntimeError("Nemesis.start called twice")
            self._started = True
        self._ready_t = ready_t
        if self._spawn_entries:
            timeline = self._ctx.timeline
            self._unsubscribe = timeline.subscribe(self._on_event)
            # Spawns between readiness and now (probes' first reading...) count too.
            for event in timeline.of(ProcessStart):
                if event.t >= ready_t:
                    self._on_event(event)
        due: list[_Due] = [
            (ready_t + entry.at, entry.index, entry)
            for entry in self._entries
            if entry.at is not None
        ]
        if due:
            heapq.heapify(due)
            self._thread = threading.Thread(
                target=self._run_timed, args=(due,), name="chaos-nemesis", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Cancel pending faults and wait for a running one to return. Idempotent."""
        self._stop.set()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def pending(self) -> bool:
        """Whether timed faults are still waiting to run."""
        return self._thread is not None and self._thread.is_alive()

    # ------------------------------------------------------------------ internals

    def _run_timed(self, due: list[_Due]) -> None:
        timeline = self._ctx.timeline
        while due and not self._stop.is_set():
            when, _, entry = due[0]
            wait = when - timeline.now()
            if wait > 0:
                self._stop.wait(wait)
                continue
            heapq.heappop(due)
            self._inject(entry, None)

    def _on_event(self, event: Event) -> None:
        if not isinstance(event, ProcessStart) or self._stop.is_set():
            return
        fire: list[FaultEntry] = []
        with self._lock:
            key = (event.pid, event.t)
            if key in self._starts_handled:
                return
            self._starts_handled.add(key)
            for entry in self._spawn_entries:
                trigger = entry.on_spawn
                assert trigger is not None
                if event.role != trigger.role:
                    continue
                if trigger.instance is not None and event.instance != trigger.instance:
                    continue
                self._spawns_seen[entry.index] += 1
                if self._spawns_seen[entry.index] == trigger.nth:
                    fire.append(entry)
        for entry in fire:
            spawned = self._tracked(event)
            if spawned is None:
                self._miss(entry, f"spawned process {event.pid} is gone or not tracked")
            else:
                self._inject(entry, spawned)

    def _tracked(self, event: ProcessStart) -> TrackedProcess | None:
        for process in self._ctx.processes(event.role, event.instance):
            if process.pid == event.pid:
                return process
        return None

    def _inject(self, entry: FaultEntry, spawned: TrackedProcess | None) -> None:
        try:
            kind = self._faults.get(entry.kind)
            kind.run(entry.spec, self._ctx, Firing(entry.index, spawned))
        except Exception as exc:  # a broken fault is on the record, never a crashed trial
            timeline = self._ctx.timeline
            timeline.record(
                HarnessNote(
                    t=timeline.now(),
                    level=NoteLevel.ERROR,
                    message=f"fault {entry.index} ({entry.kind}) failed: {exc!r}",
                )
            )
            self._miss(entry, f"the fault raised {type(exc).__name__}: {exc}")

    def _miss(self, entry: FaultEntry, reason: str) -> None:
        timeline = self._ctx.timeline
        role = entry.on_spawn.role if entry.on_spawn is not None else None
        intent = self._faults.get(entry.kind).intent if entry.kind in self._faults else Effect.NONE
        timeline.record(
            FaultAction(
                t=timeline.now(),
                fault=entry.index,
                kind=entry.kind,
                phase=FaultPhase.MISS,
                effect=intent,
                role=role,
                detail={"reason": reason},
            )
        )

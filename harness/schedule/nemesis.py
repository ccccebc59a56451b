"""The nemesis: runs one trial's ``Schedule``, and only that.

Three kinds of step: ``before`` (run synchronously before the system is launched), timed
(seconds after ready, on one timer thread that sleeps on an ``Event`` until the next due
step) and event triggers (``on_spawn``, ``on_log``, ``on_request``, ``on_probe``: each
recorded event of the chaos phase is offered to their matchers in the timeline subscriber,
and a step that fires runs right there, synchronously, so a kill lands within milliseconds
of the event; a long fault holds that observer up while it runs). A fault that raises is
recorded (a ``HarnessNote`` and a ``miss``), never allowed to end the trial.

Each step draws its random choices (``which: random``) from a stream of its own, seeded
from (the trial's seed, the step's number): the order in which steps happen to fire does
not change what each one picks, and a replayed or shrunk schedule draws as the original.
"""

from __future__ import annotations

import heapq
import random
import threading
from collections.abc import Callable, Sequence

from harness.disks import Disk
from harness.faults.base import FaultContext, FaultPlugin, Firing
from harness.faults.registry import FAULTS
from harness.observe.events import Event, FaultAction, FaultPhase, HarnessNote, NoteLevel
from harness.observe.timeline import Timeline
from harness.proxy import Proxy
from harness.scenario.model import FaultEntry, OnLog, OnSpawn
from harness.schedule.model import BEFORE, Schedule
from harness.schedule.plan import Bound, bind, plan_entries
from harness.schedule.triggers import Fired, Matcher, matcher_for
from harness.spec.effects import Effect
from harness.spec.registry import Registry
from harness.spec.units import MAX_DURATION_S
from harness.system.limits import Limits
from harness.system.process import TrackedProcess

_Due = tuple[float, int, Bound]


def step_stream(seed: int, number: int) -> random.Random:
    """The random stream a step's fault draws from (``which: random``, ``toxicity``)."""
    return random.Random(f"chaos-step:{seed}:{number}")


class Nemesis:
    """Runs ``schedule`` against one trial's ``ctx``.

    ``schedule`` may also be plain fault entries (the Python API, tests): they are planned
    with seed 0 and no end.
    """

    def __init__(
        self,
        schedule: Schedule | Sequence[FaultEntry],
        ctx: FaultContext,
        *,
        faults: Registry[FaultPlugin] = FAULTS,
    ) -> None:
        if not isinstance(schedule, Schedule):
            schedule = plan_entries(list(schedule), 0, MAX_DURATION_S)
        self.schedule = schedule
        self._bound = bind(schedule, faults)
        self._ctx = ctx
        self._faults = faults
        self._stop = threading.Event()
        # Re-entrant: a matcher asking the context for a process's role may see that
        # context record an event (an exit it just noticed), offered here in the same thread.
        self._lock = threading.RLock()
        self._thread: threading.Thread | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._watching = [b for b in self._bound if b.trigger is not None]
        self._matchers: dict[int, Matcher] = {
            b.step.number: matcher_for(b.trigger, self._role_of)
            for b in self._watching
            if b.trigger is not None
        }
        self._window = (0.0, float("inf"))
        self._started = False

    # ------------------------------------------------------------------ triggers

    def before_start(self) -> None:
        """Run every ``before: start`` step now, in schedule order."""
        for bound in self._bound:
            if bound.step.trigger == BEFORE:
                self._inject(bound, Firing(bound.step.number))

    def start(self, ready_t: float) -> None:
        """Arm the timed and event steps; ``ready_t`` is trial time of readiness."""
        with self._lock:
            if self._started:
                raise RuntimeError("Nemesis.start called twice")
            self._started = True
        begin, end = self.schedule.chaos
        self._window = (ready_t + begin, ready_t + end if end > begin else float("inf"))
        if self._watching:
            past, self._unsubscribe = self._ctx.timeline.follow(self._on_event)
            # Events between the chaos phase's start and now (probes' first reading...)
            # count too; each event is offered once, from ``past`` or as it is recorded.
            for event in past:
                if event.t >= self._window[0]:
                    self._on_event(event)
        due: list[_Due] = [
            (ready_t + (b.step.at or 0.0), b.step.number, b) for b in self._bound if b.step.timed
        ]
        if due:
            heapq.heapify(due)
            self._thread = threading.Thread(
                target=self._run_timed, args=(due,), name="chaos-nemesis", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Cancel pending steps and wait for a running one to return. Idempotent."""
        self._stop.set()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def pending(self) -> bool:
        """Whether timed steps are still waiting to run."""
        return self._thread is not None and self._thread.is_alive()

    # ------------------------------------------------------------------ internals

    def _run_timed(self, due: list[_Due]) -> None:
        timeline = self._ctx.timeline
        while due and not self._stop.is_set():
            when, number, bound = due[0]
            wait = when - timeline.now()
            if wait > 0:
                self._stop.wait(wait)
                continue
            heapq.heappop(due)
            self._inject(bound, Firing(number))

    def _on_event(self, event: Event) -> None:
        if self._stop.is_set() or event.t < self._window[0]:
            return
        if self._ctx.timeline.now() >= self._window[1]:
            return
        fire: list[tuple[Bound, Fired]] = []
        with self._lock:
            for bound in self._watching:
                fired = self._matchers[bound.step.number].offer(event)
                if fired is not None:
                    fire.append((bound, fired))
        for bound, fired in fire:
            target = None
            if fired.pid is not None:
                target = self._tracked(fired.pid)
                if target is None:
                    what = "spawned" if isinstance(bound.trigger, OnSpawn) else "named"
                    reason = f"the {what} process {fired.pid} is gone or not one of this trial's"
                    self._miss(bound, reason)
                    continue
            self._inject(bound, Firing(bound.step.number, target, event=fired.event))

    def _tracked(self, pid: int) -> TrackedProcess | None:
        for process in self._ctx.processes():
            if process.pid == pid:
                return process
        return None

    def _role_of(self, pid: int) -> str | None:
        process = self._tracked(pid)
        return process.role if process is not None else None

    def _inject(self, bound: Bound, firing: Firing) -> None:
        ctx = _StepContext(self._ctx, step_stream(self.schedule.seed, bound.step.number))
        try:
            bound.fault.run(bound.spec, ctx, firing)
        except Exception as exc:  # a broken fault is on the record, never a crashed trial
            timeline = self._ctx.timeline
            timeline.record(
                HarnessNote(
                    t=timeline.now(),
                    level=NoteLevel.ERROR,
                    message=f"fault {bound.step.number} ({bound.step.kind}) failed: {exc!r}",
                )
            )
            self._miss(bound, f"the fault raised {type(exc).__name__}: {exc}")

    def _miss(self, bound: Bound, reason: str) -> None:
        timeline = self._ctx.timeline
        trigger = bound.trigger
        role = trigger.role if isinstance(trigger, OnSpawn | OnLog) else None
        kind = bound.step.kind
        intent = self._faults.get(kind).intent if kind in self._faults else Effect.NONE
        timeline.record(
            FaultAction(
                t=timeline.now(),
                fault=bound.step.number,
                kind=kind,
                phase=FaultPhase.MISS,
                effect=intent,
                role=role,
                detail={"reason": reason},
            )
        )


class _StepContext:
    """The trial's context as one step sees it: its own random stream, all else shared."""

    def __init__(self, ctx: FaultContext, rng: random.Random) -> None:
        self._ctx = ctx
        self._rng = rng

    @property
    def timeline(self) -> Timeline:
        return self._ctx.timeline

    @property
    def rng(self) -> random.Random:
        return self._rng

    @property
    def stopping(self) -> threading.Event:
        return self._ctx.stopping

    def processes(
        self, role: str | None = None, instance: int | None = None
    ) -> list[TrackedProcess]:
        return self._ctx.processes(role, instance)

    def signal(self, process: TrackedProcess, signum: int) -> bool:
        return self._ctx.signal(process, signum)

    def resolve(self, template: str, instance: int = 0) -> str:
        return self._ctx.resolve(template, instance)

    def later(self, delay: float, action: Callable[[], None]) -> None:
        self._ctx.later(delay, action)

    def proxy(self, name: str, instance: int = 0) -> Proxy:
        return self._ctx.proxy(name, instance)

    def disk(self, name: str, instance: int = 0) -> Disk:
        return self._ctx.disk(name, instance)

    def on_teardown(self, action: Callable[[], None]) -> None:
        self._ctx.on_teardown(action)

    def limits(self) -> Limits:
        return self._ctx.limits()

"""Process lifetimes read back from a timeline: who was alive, frozen, or killed, and when.

Several checkers ask the same questions of the recorded ``ProcessStart``/``ProcessExit``
and ``FaultAction`` events ("how many backends were serving at t?"), so the answers are
computed once here, as plain data, from the history alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from harness.invariants.base import History
from harness.observe.events import FaultAction, FaultPhase, Phase, ProcessExit, ProcessStart, Ready
from harness.spec.effects import Effect

INF = math.inf


@dataclass
class Life:
    """One process from first sight to exit (``exit == INF``: never seen to exit)."""

    pid: int
    instance: int
    role: str | None
    root: bool
    start: float
    exit: float = INF
    code: int | None = None
    signal: str | None = None
    frozen: list[tuple[float, float]] = field(default_factory=list)
    """``[from, to)`` intervals during which the process was stopped by a freeze."""

    def alive_at(self, t: float) -> bool:
        return self.start <= t < self.exit

    def frozen_at(self, t: float) -> bool:
        return any(a <= t < b for a, b in self.frozen)

    def how_it_ended(self) -> str:
        """``exit code 1``, ``signal SIGKILL`` or ``exit (status unknown)``."""
        if self.signal:
            return f"signal {self.signal}"
        if self.code is not None:
            return f"exit code {self.code}"
        return "exit (status unknown)"


_HITS = frozenset({Effect.ENDS, Effect.STOPS})
"""Fault effects that take a process away: what recovery is measured from."""


@dataclass(frozen=True)
class Hit:
    """A fault action that ended or stopped one process (whatever its kind)."""

    t: float
    fault: int
    kind: str
    """The fault's name, for messages only: checkers decide by ``effect``."""
    effect: Effect
    pid: int
    life: Life | None
    thawed: float | None = None
    """For a stop: when the same fault resumed the process (the harness's thaw), if it did."""

    @property
    def ends(self) -> bool:
        return self.effect is Effect.ENDS

    @property
    def stops(self) -> bool:
        return self.effect is Effect.STOPS


class Lifetimes:
    """Every process of the trial and every fault that hit one, indexed for queries."""

    def __init__(self, history: History) -> None:
        self.lives: list[Life] = []
        self.teardown = teardown_start(history)
        open_: dict[int, Life] = {}
        for event in history.events:
            if isinstance(event, ProcessStart):
                life = Life(event.pid, event.instance, event.role, event.root, event.t)
                self.lives.append(life)
                open_[event.pid] = life
            elif isinstance(event, ProcessExit) and event.pid in open_:
                life = open_.pop(event.pid)
                life.exit, life.code, life.signal = event.t, event.code, event.signal
        self.hits: list[Hit] = []
        self._apply_faults(history.of(FaultAction))

    def _apply_faults(self, actions: Sequence[FaultAction]) -> None:
        acts = [a for a in actions if a.phase is not FaultPhase.MISS]
        thawed: dict[tuple[int, int], float] = {}
        for action in acts:
            if action.effect is Effect.RESUMES:
                for pid in action.pids:
                    thawed.setdefault((action.fault, pid), action.t)
        for action in acts:
            if action.effect not in _HITS:
                continue
            for pid in action.pids:
                life = self.at(pid, action.t)
                thaw = thawed.get((action.fault, pid)) if action.effect is Effect.STOPS else None
                hit = Hit(action.t, action.fault, action.kind, action.effect, pid, life, thaw)
                self.hits.append(hit)
                if hit.stops and life is not None:
                    life.frozen.append((hit.t, min(INF if thaw is None else thaw, life.exit)))

    def at(self, pid: int, t: float) -> Life | None:
        """The process with ``pid`` alive at ``t`` (or the latest one started before)."""
        best: Life | None = None
        for life in self.lives:
            if life.pid == pid and life.start <= t and (best is None or life.start > best.start):
                best = life
        return best

    def of(self, role: str | None = None, instance: int | None = None) -> list[Life]:
        return [
            life
            for life in self.lives
            if (role is None or life.role == role)
            and (instance is None or life.instance == instance)
        ]

    def roots(self) -> dict[int, Life]:
        """Each instance's root process (the first one marked ``root``)."""
        found: dict[int, Life] = {}
        for life in self.lives:
            if life.root:
                found.setdefault(life.instance, life)
        return found


def teardown_start(history: History) -> float:
    """When teardown began (``Phase("teardown")``); ``INF`` if it was not recorded."""
    starts = [e.t for e in history.of(Phase) if e.name == "teardown"]
    return min(starts) if starts else INF


def trial_end(history: History) -> float:
    """The end of the judged window: teardown's start, or the last event recorded."""
    return min(teardown_start(history), history.end)


def ready_times(history: History) -> dict[int, float]:
    """Each instance's first ``Ready``."""
    found: dict[int, float] = {}
    for event in history.of(Ready):
        found.setdefault(event.instance, event.t)
    return found

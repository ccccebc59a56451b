"""Recovery as phases: for every fault that ended or stopped processes of a role, when the
role was back at each step, read from the recorded timeline alone.

A fork is not a recovery: uvicorn's replacement worker answers 100-500 ms after it exists,
a testbed module registers ~30 ms after its fork. So each (fault, instance) is broken down:

- ``died``: every process the fault hit has exited (a stop: the system killed it);
- ``spawned``: the role has its expected number of live, unfrozen processes again;
- ``listening``: ... each of them seen listening on a port of its own (``PortListen``);
- ``ready``: ... each of them ready by the role's own readiness (``role_ready``);
- ``serving``: the first ok workload answer to a request sent after the fault and after
  the last failed one (``last_failed``), before the next fault.

A process the fault stopped never counts again for that fault, even after the harness
thaws it: a thaw is the harness's doing, not a recovery. ``replaced`` says whether the
system replaced (or killed) it before the thaw. Phases that cannot apply (no workload, a
role that never listens, no readiness declared) are left out, never guessed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from harness.invariants.base import History
from harness.invariants.lifetimes import INF, Hit, Life, Lifetimes, trial_end
from harness.invariants.role_ready import ReadyTimes, probe_ready_times, ready_times
from harness.observe.events import FaultAction, PortListen, Request
from harness.spec.effects import Effect


class RecoveryPhase(StrEnum):
    """The steps of a recovery, in the order they normally come."""

    SPAWNED = "spawned"
    LISTENING = "listening"
    READY = "ready"
    SERVING = "serving"


PHASES: tuple[RecoveryPhase, ...] = tuple(RecoveryPhase)


def metric_name(phase: RecoveryPhase | str) -> str:
    """The trial metric holding one value per fault for ``phase``: ``recovery_ready_s``."""
    return f"recovery_{phase}_s"


@dataclass(frozen=True)
class Breakdown:
    """One fault on one instance of one role, phase by phase (trial times, ``None``: not
    reached before the end of the window)."""

    role: str
    fault: int
    kind: str
    effect: Effect
    instance: int
    t: float
    pids: tuple[int, ...]
    expected: int
    end: float
    """The end of the window searched (teardown's start, or the last event)."""
    reached: dict[RecoveryPhase, float | None]
    """Only the phases that apply to this role and scenario."""
    died: float | None = None
    last_failed: float | None = None
    """Send time of the last failed workload request after the fault."""
    thawed: float | None = None
    """A stop: when the harness resumed the process (``None``: not recorded)."""

    def applies(self, phase: RecoveryPhase) -> bool:
        return phase in self.reached

    def at(self, phase: RecoveryPhase) -> float | None:
        """Trial time the phase was reached."""
        return self.reached.get(phase)

    def seconds(self, phase: RecoveryPhase) -> float | None:
        """Seconds from the fault to the phase."""
        t = self.reached.get(phase)
        return None if t is None else max(0.0, t - self.t)

    @property
    def stops(self) -> bool:
        return self.effect is Effect.STOPS

    @property
    def replaced(self) -> bool:
        """A stop: the system replaced or killed the stopped process before the thaw."""
        thaw = INF if self.thawed is None else self.thawed
        spawned = self.reached.get(RecoveryPhase.SPAWNED)
        return (self.died is not None and self.died < thaw) or (
            spawned is not None and spawned < thaw
        )

    def to_metric(self, until: RecoveryPhase, ok: bool) -> dict[str, Any]:
        """The journal's record of this breakdown (seconds after the fault)."""

        def after(t: float | None) -> float | None:
            return None if t is None else round(max(0.0, t - self.t), 6)

        record: dict[str, Any] = {
            "role": self.role,
            "fault": self.fault,
            "kind": self.kind,
            "effect": str(self.effect),
            "instance": self.instance,
            "t": round(self.t, 6),
            "pids": list(self.pids),
            "until": str(until),
            "ok": ok,
            "phases": [str(p) for p in PHASES if p in self.reached],
            "died_s": after(self.died),
        }
        for phase in PHASES:
            record[f"{phase}_s"] = after(self.reached.get(phase))
        record["last_failed_s"] = after(self.last_failed)
        if self.stops:
            record["thawed_s"] = after(self.thawed)
            record["replaced"] = self.replaced
        return record


def breakdowns(
    role: str,
    history: History,
    *,
    count: int | None = None,
    probe: str | None = None,
    workloads: Collection[str] | None = None,
) -> tuple[list[Breakdown], float]:
    """Every (fault, instance) that ended or stopped a process of ``role``, broken down;
    and the end of the judged window. ``probe``: ``recovers.probe`` as the readiness when
    the role declares none; ``workloads``: whose requests show serving (default: all)."""
    lives = Lifetimes(history)
    end = trial_end(history)
    groups: dict[tuple[float, int, int], list[Hit]] = defaultdict(list)
    for hit in lives.hits:
        if hit.life is not None and hit.life.role == role and hit.t <= end:
            groups[(hit.t, hit.fault, hit.life.instance)].append(hit)
    killed = _killed(lives)
    ready = ready_times(role, history, lives)
    if ready is None and probe is not None:
        ready = probe_ready_times(role, probe, history, lives)
    listens = _listen_times(role, history, lives)
    names = set(history.workloads if workloads is None else workloads)
    requests = [r for r in history.of(Request) if r.workload in names]
    injected = sorted({a.t for a in history.of(FaultAction) if a.phase.injects})
    found: list[Breakdown] = []
    for (t, fault, instance), hits in sorted(groups.items()):
        role_lives = lives.of(role, instance)
        taken = {id(h.life) for h in hits if h.stops and h.life is not None}
        expected = _expected(role, count, history, role_lives, t)
        available = _Available(role_lives, killed, taken, t)
        reached: dict[RecoveryPhase, float | None] = {
            RecoveryPhase.SPAWNED: available.first(expected, end)
        }
        if listens:
            reached[RecoveryPhase.LISTENING] = available.first(expected, end, listens)
        if ready is not None:
            reached[RecoveryPhase.READY] = available.first(expected, end, ready)
        last_failed = None
        if names:
            until = min([x for x in injected if x > t] + [end])
            mine = [r for r in requests if r.instance == instance]
            reached[RecoveryPhase.SERVING], last_failed = _serving(mine, t, until)
        exits = [h.life.exit for h in hits if h.life is not None]
        died = max(exits) if exits and max(exits) <= end else None
        thaws = [h.thawed for h in hits if h.stops and h.thawed is not None]
        found.append(
            Breakdown(
                role=role,
                fault=fault,
                kind=hits[0].kind,
                effect=hits[0].effect,
                instance=instance,
                t=t,
                pids=tuple(h.pid for h in hits),
                expected=expected,
                end=end,
                reached=reached,
                died=died,
                last_failed=last_failed,
                thawed=min(thaws) if thaws else None,
            )
        )
    return found, end


# --------------------------------------------------------------------------- counting


def _killed(lives: Lifetimes) -> dict[int, float]:
    """Kills count from the signal, not from the exit seen later, unless the process
    survived its kill (a signal it ignores): then it is still serving and stays counted."""
    killed: dict[int, float] = {}
    for hit in lives.hits:
        if hit.ends and hit.life is not None and hit.life.exit < lives.teardown:
            killed[id(hit.life)] = min(hit.t, killed.get(id(hit.life), INF))
    return killed


class _Available:
    """Live, unfrozen, not-yet-dead processes of the role, seen from one fault at ``t0``:
    the processes that fault stopped are gone for good from ``t0`` on."""

    def __init__(
        self, role_lives: list[Life], killed: dict[int, float], taken: set[int], t0: float
    ) -> None:
        self._lives = role_lives
        self._killed = killed
        self._taken = taken
        self._t0 = t0

    def _up(self, life: Life, t: float) -> bool:
        return (
            life.alive_at(t)
            and not life.frozen_at(t)
            and t < self._killed.get(id(life), INF)
            and not (id(life) in self._taken and t >= self._t0)
        )

    def count(self, t: float, since: ReadyTimes | None = None) -> int:
        return sum(
            1
            for life in self._lives
            if self._up(life, t) and (since is None or since.get(id(life), INF) <= t)
        )

    def _changes(self, since: ReadyTimes | None) -> list[float]:
        """Every time the count can change, from ``t0`` on."""
        times = {self._t0}
        for life in self._lives:
            times |= {life.start, life.exit, self._killed.get(id(life), INF)}
            times |= {b for _, b in life.frozen} | {a for a, _ in life.frozen}
            if since is not None and id(life) in since:
                times.add(since[id(life)])
        return sorted(x for x in times if self._t0 <= x < INF)

    def first(self, expected: int, end: float, since: ReadyTimes | None = None) -> float | None:
        """The first time from ``t0`` with ``expected`` processes up (each with a ``since``
        time at or before it, when given); ``None`` if not before ``end``."""
        for t in self._changes(since):
            if t > end:
                return None
            if self.count(t, since) >= expected:
                return t
        return None


def _expected(
    role: str, count: int | None, history: History, role_lives: list[Life], t: float
) -> int:
    if count is not None:
        return count
    facts = history.roles.get(role)
    if facts is not None and facts.count is not None:
        return max(1, facts.count)
    before = [life for life in role_lives if life.start < t <= life.exit]
    before = [life for life in before if not life.frozen_at(t - 1e-9)]
    return max(1, len(before))


def _listen_times(role: str, history: History, lives: Lifetimes) -> ReadyTimes:
    """``id(life)`` → first time that process was seen listening on a port of its own."""
    found: ReadyTimes = {}
    for event in history.of(PortListen):
        if event.role != role:
            continue
        life = lives.at(event.pid, event.t)
        if life is not None and life.role == role and event.t <= life.exit:
            found.setdefault(id(life), event.t)
    return found


def _serving(requests: list[Request], t0: float, until: float) -> tuple[float | None, float | None]:
    """``(restored, last failed)``: the answer of the first ok request sent after the
    fault and after the last one that failed (failures answered before ``until``, the next
    fault, only: a later fault's errors are its own)."""
    window = [r for r in requests if t0 <= r.t < until]
    failed = [r.t for r in window if not r.ok and r.t + r.latency_s < until]
    last_failed = max(failed) if failed else None
    answered = [
        r.t + r.latency_s for r in window if r.ok and (last_failed is None or r.t > last_failed)
    ]
    return (min(answered) if answered else None), last_failed

"""``recovers``: after every fault that ends or stops a process of a role, it is back in time.

The Jan and Companion incidents: a backend or module killed from outside must be replaced
(and, with ``probe``, answer healthy again) within T. Recovery is measured per fault and
instance, from the fault's action to the first moment the role has its expected number of
live, unfrozen processes (and an ok probe reading after the replacement started).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Annotated, ClassVar

from pydantic import Field

from harness.invariants.base import Checker, History
from harness.invariants.lifetimes import INF, Hit, Life, Lifetimes, trial_end
from harness.invariants.outcome import limit, listing, result, secs
from harness.observe.events import FaultAction, FaultPhase, ProbeResult
from harness.spec.effects import Effect
from harness.spec.kinds import InvariantSpec
from harness.spec.units import Duration
from harness.spec.verdict import InvariantResult

KIND = "recovers"

_TAKES_AWAY = frozenset({Effect.ENDS, Effect.STOPS})


class RecoversSpec(InvariantSpec):
    """``recovers: {role, within, probe?, count?}``."""

    not_templates: ClassVar[frozenset[str]] = frozenset({"role", "probe"})

    role: str
    within: Duration
    probe: str | None = None
    count: Annotated[int, Field(ge=1)] | None = None


@dataclass(frozen=True)
class Recovery:
    """One fault on one instance: when it hit, and when (if ever) the role was back."""

    t_fault: float
    fault: int
    kind: str
    instance: int
    pids: tuple[int, ...]
    expected: int
    t_recovered: float | None

    @property
    def seconds(self) -> float | None:
        return None if self.t_recovered is None else self.t_recovered - self.t_fault


def recoveries(spec: RecoversSpec, history: History) -> tuple[list[Recovery], float]:
    """Every (fault, instance) that hit the role, with its recovery; and the end of the
    window searched (teardown's start: processes ended by teardown are not a fault)."""
    lives = Lifetimes(history)
    end = trial_end(history)
    groups: dict[tuple[float, int, int], list[Hit]] = defaultdict(list)
    for hit in lives.hits:
        role = hit.life.role if hit.life is not None else None
        if role == spec.role and hit.life is not None and hit.t <= end:
            groups[(hit.t, hit.fault, hit.life.instance)].append(hit)
    killed = _killed(lives, lives.teardown)
    found: list[Recovery] = []
    for (t, fault, instance), hits in sorted(groups.items()):
        role_lives = lives.of(spec.role, instance)
        expected = _expected(spec, history, role_lives, t)
        available = _Available(role_lives, killed)
        ok_probes = _probe_times(spec, history, instance)
        recovered = _first_recovery(available, expected, t, end, ok_probes, role_lives)
        pids = tuple(h.pid for h in hits)
        found.append(Recovery(t, fault, hits[0].kind, instance, pids, expected, recovered))
    return found, end


def _killed(lives: Lifetimes, end: float) -> dict[int, float]:
    """Kills count from the signal, not from the exit seen later, unless the process
    survived its kill (a signal it ignores): then it is still serving and stays counted."""
    killed: dict[int, float] = {}
    for hit in lives.hits:
        if hit.ends and hit.life is not None and hit.life.exit < end:
            killed[id(hit.life)] = min(hit.t, killed.get(id(hit.life), INF))
    return killed


class _Available:
    """Live, unfrozen, not-yet-dead processes of the role at a given time."""

    def __init__(self, role_lives: list[Life], killed: dict[int, float]) -> None:
        self._lives = role_lives
        self._killed = killed

    def count(self, t: float) -> int:
        return sum(
            1
            for life in self._lives
            if life.alive_at(t) and not life.frozen_at(t) and t < self._killed.get(id(life), INF)
        )

    def changes(self, after: float) -> list[float]:
        """Every time the count can change, from ``after`` on."""
        times = {after}
        for life in self._lives:
            times |= {life.start, life.exit, self._killed.get(id(life), INF)}
            times |= {b for _, b in life.frozen} | {a for a, _ in life.frozen}
        return sorted(x for x in times if after <= x < INF)


def _expected(spec: RecoversSpec, history: History, role_lives: list[Life], t: float) -> int:
    if spec.count is not None:
        return spec.count
    facts = history.roles.get(spec.role)
    if facts is not None and facts.count is not None:
        return max(1, facts.count)
    before = [life for life in role_lives if life.start < t <= life.exit]
    before = [life for life in before if not life.frozen_at(t - 1e-9)]
    return max(1, len(before))


def _probe_times(spec: RecoversSpec, history: History, instance: int) -> list[float] | None:
    if spec.probe is None:
        return None
    return sorted(
        e.t
        for e in history.of(ProbeResult)
        if e.name == spec.probe and e.ok and e.instance == instance
    )


def _first_recovery(
    available: _Available,
    expected: int,
    t_fault: float,
    end: float,
    ok_probes: list[float] | None,
    role_lives: list[Life],
) -> float | None:
    candidates = available.changes(t_fault)
    if ok_probes is not None:
        replaced = [life.start for life in role_lives if life.start >= t_fault]
        since = max(t_fault, min(replaced, default=t_fault))
        candidates = [p for p in ok_probes if p >= since]
    for t in candidates:
        if t > end:
            return None
        if available.count(t) >= expected:
            return t
    return None


def _who(r: Recovery, role: str, multi: bool) -> str:
    return f"{role} (instance {r.instance})" if multi else role


def _after(r: Recovery) -> str:
    return f"after the {r.kind} at {secs(r.t_fault)} (fault #{r.fault})"


def check(spec: RecoversSpec, history: History) -> InvariantResult:
    """Fail on any fault not recovered within ``within``; fail if nothing was hit."""
    found, end = recoveries(spec, history)
    expected = f"{spec.role} back within {limit(spec.within)} after every fault that hit it"
    if not found:
        misses = [
            a
            for a in history.of(FaultAction)
            if a.phase is FaultPhase.MISS and a.role == spec.role and a.effect in _TAKES_AWAY
        ]
        why = ""
        if misses:
            reasons = [f"at {secs(a.t)}: {a.detail.get('reason', 'no target')}" for a in misses]
            why = f" ({len(misses)} missed: {listing(reasons)})"
        return result(
            KIND,
            spec,
            False,
            f"no fault ended or stopped a process of role {spec.role}{why}; nothing to judge",
            expected=expected,
            observed="no fault hit the role",
            evidence=[a.t for a in misses],
        )
    multi = len({r.instance for r in found}) > 1
    measured = [r.seconds for r in found if r.seconds is not None]
    late = [r for r in found if r.seconds is not None and r.seconds > spec.within]
    never = [r for r in found if r.seconds is None]
    metrics = {"recovery_s": [round(s, 6) for s in measured]}
    evidence = [r.t_fault for r in found] + [r.t_recovered for r in found if r.t_recovered]
    if never:
        r = never[0]
        detail = (
            f"{_who(r, spec.role, multi)} not recovered {_after(r)} by end of trial (t={secs(end)},"
            f" {secs(end - r.t_fault)} later; needed {r.expected} live process(es)); "
            f"expected within {limit(spec.within)}"
        )
    elif late:
        r = max(late, key=lambda x: x.seconds or 0.0)
        took = r.seconds or 0.0
        detail = (
            f"{_who(r, spec.role, multi)} recovered in {secs(took)} {_after(r)}; expected within "
            f"{limit(spec.within)} ({secs(took - spec.within)} over)"
        )
    else:
        worst = max(measured)
        detail = (
            f"{spec.role} recovered from all {len(found)} fault(s), slowest in {secs(worst)};"
            f" expected within {limit(spec.within)}"
        )
    failed = never + late
    observed = ", ".join("never" if r.seconds is None else secs(r.seconds) for r in found)
    return result(
        KIND,
        spec,
        not failed,
        detail,
        expected=expected,
        observed=f"recovery per fault: {observed}",
        metrics=metrics,
        evidence=evidence,
    )


CHECKER = Checker(KIND, RecoversSpec, check, refs={"role": "role", "probe": "probe"})

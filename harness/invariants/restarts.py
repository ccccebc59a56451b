"""``restarts``: how many times a role was replaced, bounded (no endless restart loop).

Jan's fix is judged by "restart count equals kill count" (``per_fault``); Companion's bug
by a restart loop that never ends (``max``). A restart is a new process of the role seen
after its instance was ready and after the role first lost a process (a kill or an exit),
before teardown: so a child that the observer merely saw a little after ``Ready`` is not
a restart, and neither is anything teardown causes.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field, model_validator

from harness.invariants.base import Checker, History
from harness.invariants.lifetimes import INF, Life, Lifetimes, ready_times
from harness.invariants.outcome import listing, result, secs
from harness.observe.events import FaultAction, FaultPhase
from harness.spec.effects import Effect
from harness.spec.kinds import InvariantSpec
from harness.spec.verdict import InvariantResult

KIND = "restarts"


class RestartsSpec(InvariantSpec):
    """``restarts: {role, max?, min?, per_fault?}``."""

    not_templates: ClassVar[frozenset[str]] = frozenset({"role"})

    role: str
    max: Annotated[int, Field(ge=0)] | None = None
    min: Annotated[int, Field(ge=0)] | None = None
    per_fault: bool = False

    @model_validator(mode="after")
    def _bounded(self) -> RestartsSpec:
        if self.max is None and self.min is None and not self.per_fault:
            raise ValueError("expected max, min or per_fault: true")
        if self.max is not None and self.min is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        return self


def restart_lives(role: str, history: History) -> list[Life]:
    """The processes of ``role`` that were replacements, in order of appearance."""
    lives = Lifetimes(history)
    ready = ready_times(history)
    found: list[Life] = []
    for instance, t_ready in ready.items():
        role_lives = lives.of(role, instance)
        kills = [h.t for h in lives.hits if h.ends and h.life in role_lives]
        exits = [life.exit for life in role_lives if life.exit < INF]
        first_loss = min(kills + exits, default=INF)
        found += [
            life
            for life in role_lives
            if life.start > t_ready and life.start >= first_loss and life.start < lives.teardown
        ]
    return sorted(found, key=lambda life: life.start)


def kills_of(role: str, history: History) -> int:
    """Processes of ``role`` hit by a kill fault before teardown."""
    lives = Lifetimes(history)
    return sum(
        1
        for h in lives.hits
        if h.ends and h.life is not None and h.life.role == role and h.t < lives.teardown
    )


def check(spec: RestartsSpec, history: History) -> InvariantResult:
    """Count the replacements and compare with ``min``/``max``/the number of kills."""
    restarts = restart_lives(spec.role, history)
    n = len(restarts)
    metrics: dict[str, int] = {"restarts": n}
    wanted: list[str] = []
    problems: list[str] = []
    if spec.per_fault:
        kills = kills_of(spec.role, history)
        metrics["kills"] = kills
        if kills == 0:
            return _nothing_killed(spec, history, n, metrics)
        wanted.append(f"exactly one per kill ({kills})")
        if n != kills:
            diff = n - kills
            problems.append(
                f"{abs(diff)} {'more' if diff > 0 else 'fewer'} than the {kills} kill(s)"
            )
    if spec.max is not None:
        wanted.append(f"at most {spec.max}")
        if n > spec.max:
            problems.append(f"{n - spec.max} over the maximum of {spec.max}")
    if spec.min is not None:
        wanted.append(f"at least {spec.min}")
        if n < spec.min:
            problems.append(f"{spec.min - n} under the minimum of {spec.min}")
    when = ", ".join(secs(life.start) for life in restarts[:5])
    seen = f"{spec.role} was restarted {n} time(s)" + (f" (at {when})" if n else "")
    expected = f"{spec.role} restarts: {' and '.join(wanted)}"
    detail = f"{seen}; expected {' and '.join(wanted)}"
    if problems:
        detail += f" ({'; '.join(problems)})"
    return result(
        KIND,
        spec,
        not problems,
        detail,
        expected=expected,
        observed=f"{n} restart(s)",
        metrics=metrics,
        evidence=[life.start for life in restarts],
    )


def _nothing_killed(
    spec: RestartsSpec, history: History, n: int, metrics: dict[str, int]
) -> InvariantResult:
    """``per_fault`` with no kill: "one restart per kill" cannot be judged, so it fails."""
    misses = [
        a
        for a in history.of(FaultAction)
        if a.phase is FaultPhase.MISS and a.role == spec.role and a.effect is Effect.ENDS
    ]
    why = ""
    if misses:
        reasons = [f"at {secs(a.t)}: {a.detail.get('reason', 'no target')}" for a in misses]
        why = f" ({len(misses)} missed: {listing(reasons)})"
    return result(
        KIND,
        spec,
        False,
        f"no fault ended a process of role {spec.role}{why}, so one restart per kill cannot"
        f" be judged ({spec.role} was restarted {n} time(s)); nothing to judge",
        expected=f"{spec.role} restarts: exactly one per kill",
        observed="no kill",
        metrics=metrics,
        evidence=[a.t for a in misses],
    )


CHECKER = Checker(KIND, RestartsSpec, check, refs={"role": "role"})

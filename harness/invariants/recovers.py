"""``recovers``: after every fault that ends or stops a process of a role, it is back in time.

The Jan and Companion incidents: a backend or module killed from outside must be replaced,
and be doing its job again, within T. "Back" is a phase of the recovery (``phases``):
``until: spawned`` (a replacement process exists), ``listening`` (on a port of its own),
``ready`` (the role's own readiness, ``roles.R.ready``) or ``serving`` (the workload's
requests succeed again). The default is ``ready`` when the role declares a readiness (or
``probe`` is given), else ``spawned``: the only phase that needs nothing but the role, and
the message always names the phase, so a fork time is never shown as a recovery unsaid.

A stopped (frozen) process must be replaced or killed by the system before the harness
thaws it: the thaw is the harness's doing and never counts as a recovery.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from harness.invariants.base import Checker, History
from harness.invariants.outcome import limit, listing, result, secs
from harness.invariants.phases import PHASES, Breakdown, RecoveryPhase, breakdowns, metric_name
from harness.observe.events import FaultAction, FaultPhase
from harness.spec.effects import Effect
from harness.spec.kinds import InvariantSpec
from harness.spec.units import Duration
from harness.spec.verdict import InvariantResult

KIND = "recovers"

_TAKES_AWAY = frozenset({Effect.ENDS, Effect.STOPS})


Until = Literal["spawned", "listening", "ready", "serving"]

_AGAIN = {
    RecoveryPhase.SPAWNED: "respawned",
    RecoveryPhase.LISTENING: "listening again",
    RecoveryPhase.READY: "ready again",
    RecoveryPhase.SERVING: "serving again",
}


class RecoversSpec(InvariantSpec):
    """``recovers: {role, within, until?, probe?, count?, workload?}``."""

    not_templates: ClassVar[frozenset[str]] = frozenset({"role", "probe", "until", "workload"})

    role: str
    within: Duration
    until: Until | None = None
    probe: str | None = None
    count: Annotated[int, Field(ge=1)] | None = None
    workload: str | None = None
    """Whose requests show ``serving``; default: every workload of the scenario."""


def phase_of(spec: RecoversSpec, history: History) -> RecoveryPhase:
    """The phase judged: ``until``, else ``ready`` when the role declares a readiness (or
    ``probe`` is given), else ``spawned``."""
    if spec.until is not None:
        return RecoveryPhase(spec.until)
    facts = history.roles.get(spec.role)
    declared = facts is not None and facts.ready is not None
    return RecoveryPhase.READY if declared or spec.probe is not None else RecoveryPhase.SPAWNED


def recoveries(spec: RecoversSpec, history: History) -> tuple[list[Breakdown], float]:
    """Every (fault, instance) that hit the role, broken down into phases; and the end of
    the window searched (teardown's start: processes ended by teardown are not a fault)."""
    workloads = None if spec.workload is None else (spec.workload,)
    return breakdowns(spec.role, history, count=spec.count, probe=spec.probe, workloads=workloads)


# --------------------------------------------------------------------------- sentences


def _who(b: Breakdown, multi: bool) -> str:
    return f"{b.role} (instance {b.instance})" if multi else b.role


def _after(b: Breakdown) -> str:
    return f"after the {b.kind} at {secs(b.t)} (fault #{b.fault})"


def ms_text(seconds: float) -> str:
    """``31 ms`` below a second, ``3.00 s`` above: phase breakdowns read at a glance."""
    return f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1000:.0f} ms"


def breakdown_text(b: Breakdown) -> str:
    """``died 2 ms · spawned 5 ms · ready 31 ms · serving never``: every phase that applies."""
    parts = []
    if b.died is not None:
        parts.append(f"died {ms_text(b.died - b.t)}")
    for phase in PHASES:
        if b.applies(phase):
            took = b.seconds(phase)
            parts.append(f"{phase} {'never' if took is None else ms_text(took)}")
    if b.stops and b.thawed is not None:
        parts.append(f"thawed {ms_text(b.thawed - b.t)} (by the harness)")
    return " · ".join(parts)


def _missing(phase: RecoveryPhase, b: Breakdown) -> str:
    """What was never reached, in words."""
    if phase is RecoveryPhase.SPAWNED:
        return f"no replacement spawned (needed {b.expected} live process(es))"
    if phase is RecoveryPhase.LISTENING:
        return f"not {b.expected} live process(es) listening on a port of their own"
    if phase is RecoveryPhase.READY:
        return f"not {b.expected} live process(es) ready"
    if b.last_failed is not None:
        return f"no ok request after the last failed one (sent at {secs(b.last_failed)})"
    return "no ok request after the fault"


def _not_applicable(phase: RecoveryPhase, spec: RecoversSpec) -> str:
    if phase is RecoveryPhase.READY:
        return (
            f"role {spec.role} declares no readiness (roles.{spec.role}.ready: a log line or a"
            " probe), so ready cannot be measured"
        )
    if phase is RecoveryPhase.LISTENING:
        return f"no process of role {spec.role} was ever seen listening on a port"
    return "the scenario has no workload whose requests could show serving"


def _not_replaced(b: Breakdown, who: str) -> str:
    if b.thawed is not None:
        return f"{who} not replaced {_after(b)}; the harness thawed it at {secs(b.thawed)}"
    return (
        f"{who} not replaced {_after(b)}; still stopped at the end of the trial (t={secs(b.end)})"
    )


# --------------------------------------------------------------------------- the check


def _nothing_hit(spec: RecoversSpec, history: History, expected: str) -> InvariantResult:
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


def _metrics(found: list[Breakdown], phase: RecoveryPhase, failed: set[int]) -> dict[str, object]:
    """``recovery_s`` (the judged phase, one per fault measured), one list per phase that
    applies, and ``recoveries``: each fault's breakdown for reports and ``compare``."""
    metrics: dict[str, object] = {
        "recovery_s": [round(s, 6) for b in found if (s := b.seconds(phase)) is not None]
    }
    for p in PHASES:
        if any(b.applies(p) for b in found):
            values = [round(s, 6) for b in found if (s := b.seconds(p)) is not None]
            metrics[metric_name(p)] = values
    metrics["recoveries"] = [b.to_metric(phase, id(b) not in failed) for b in found]
    return metrics


def check(spec: RecoversSpec, history: History) -> InvariantResult:
    """Fail on any fault not recovered (to the ``until`` phase) within ``within``, on a
    stopped process the system left for the harness to thaw, and if nothing was hit."""
    phase = phase_of(spec, history)
    expected = (
        f"{spec.role} back ({phase}) within {limit(spec.within)} after every fault that hit it"
    )
    found, end = recoveries(spec, history)
    if not found:
        return _nothing_hit(spec, history, expected)
    if not found[0].applies(phase):
        return result(
            KIND,
            spec,
            False,
            f"until {phase}: {_not_applicable(phase, spec)}; nothing to judge",
            expected=expected,
            observed=f"{phase} not measurable",
            metrics=_metrics(found, phase, {id(b) for b in found}),
            evidence=[b.t for b in found],
        )
    multi = len({b.instance for b in found}) > 1
    thawed = [b for b in found if b.stops and not b.replaced]
    left = {id(b) for b in thawed}
    never = [b for b in found if id(b) not in left and b.seconds(phase) is None]
    late = [
        b
        for b in found
        if id(b) not in left and (took := b.seconds(phase)) is not None and took > spec.within
    ]
    failed = {id(b) for b in thawed + never + late}
    evidence = [b.t for b in found] + [t for b in found if (t := b.at(phase)) is not None]
    evidence += [b.thawed for b in thawed if b.thawed is not None]
    if thawed:
        b = thawed[0]
        detail = (
            f"{_not_replaced(b, _who(b, multi))}; expected a replacement {phase} within"
            f" {limit(spec.within)} ({breakdown_text(b)})"
        )
    elif never:
        b = never[0]
        detail = (
            f"{_who(b, multi)} not recovered {_after(b)}: {_missing(phase, b)} by end of trial"
            f" (t={secs(end)}, {ms_text(end - b.t)} later); expected {phase} within"
            f" {limit(spec.within)} ({breakdown_text(b)})"
        )
    elif late:
        b = max(late, key=lambda x: x.seconds(phase) or 0.0)
        took = b.seconds(phase) or 0.0
        detail = (
            f"{_who(b, multi)} {_AGAIN[phase]} in {ms_text(took)} {_after(b)}; expected within "
            f"{limit(spec.within)} ({ms_text(took - spec.within)} over; {breakdown_text(b)})"
        )
    else:
        b = max(found, key=lambda x: x.seconds(phase) or 0.0)
        detail = (
            f"{spec.role} {_AGAIN[phase]} after all {len(found)} fault(s), slowest in"
            f" {ms_text(b.seconds(phase) or 0.0)} ({breakdown_text(b)}); expected within"
            f" {limit(spec.within)}"
        )
    per_fault = ", ".join(
        "not replaced"
        if id(b) in left
        else ("never" if (x := b.seconds(phase)) is None else ms_text(x))
        for b in found
    )
    return result(
        KIND,
        spec,
        not failed,
        detail,
        expected=expected,
        observed=f"{phase} per fault: {per_fault}",
        metrics=_metrics(found, phase, failed),
        evidence=evidence,
    )


CHECKER = Checker(
    KIND, RecoversSpec, check, refs={"role": "role", "probe": "probe", "workload": "workload"}
)

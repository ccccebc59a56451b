"""``probe``: what the system reports about itself, read at a path, meets an expectation.

Companion's status said "ok" while the module was stuck: ``during_faults`` catches a
status that never leaves "ok"; ``eventually`` with ``within`` catches one that never comes
back. ``at`` picks the readings judged: ``start`` (first ok reading after ready), ``end``
(last reading before teardown), ``always`` (every ok reading after ready), ``eventually``
(some reading within ``within`` of the last fault, or of ready when there was none),
``during_faults`` (every reading while a freeze or another fault with an end is active).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import model_validator

from harness.invariants.base import Checker, History
from harness.invariants.lifetimes import INF, ready_times, teardown_start
from harness.invariants.outcome import limit, result, secs
from harness.invariants.values import Expectation, read_path, shown
from harness.observe.events import FaultAction, FaultPhase, ProbeResult
from harness.spec.units import Duration
from harness.spec.verdict import InvariantResult

KIND = "probe"

At = Literal["start", "end", "always", "eventually", "during_faults"]


class ProbeCheckSpec(Expectation):
    """``probe: {name, path, equals|matches|in|above|below, at, within?}``."""

    not_templates: ClassVar[frozenset[str]] = frozenset({"name", "path", "at", "equals", "in_"})

    name: str
    path: str = ""
    at: At = "end"
    within: Duration | None = None

    @model_validator(mode="after")
    def _within_for_eventually(self) -> ProbeCheckSpec:
        if self.within is not None and self.at != "eventually":
            raise ValueError("within only applies to at: eventually")
        return self


def fault_windows(history: History) -> list[tuple[float, float]]:
    """``[start, end)`` of every fault with a duration (a freeze); open ones run to the end."""
    ends = {a.fault: a.t for a in history.of(FaultAction) if a.phase is FaultPhase.END}
    return [
        (a.t, ends.get(a.fault, INF))
        for a in history.of(FaultAction)
        if a.phase is FaultPhase.START
    ]


def _chosen(spec: ProbeCheckSpec, history: History) -> tuple[list[ProbeResult], str]:
    """The readings ``at`` selects, and how to name that selection in a sentence."""
    ready = ready_times(history)
    t_ready = min(ready.values(), default=0.0)
    end = teardown_start(history)
    readings = [p for p in history.of(ProbeResult) if p.name == spec.name and p.t < end]
    after_ready = [p for p in readings if p.t >= ready.get(p.instance, t_ready)]
    if spec.at == "start":
        firsts: dict[int, ProbeResult] = {}
        for p in after_ready:
            if p.ok:
                firsts.setdefault(p.instance, p)
        return list(firsts.values()), "the first ok reading after ready"
    if spec.at == "end":
        lasts = {p.instance: p for p in after_ready}
        return list(lasts.values()), "the last reading before teardown"
    if spec.at == "always":
        return [p for p in after_ready if p.ok], "every ok reading after ready"
    if spec.at == "during_faults":
        windows = fault_windows(history)
        chosen = [p for p in after_ready if any(a <= p.t < b for a, b in windows)]
        return chosen, "every reading while a fault was active"
    # The last fault *injected* before teardown; a freeze's end (the thaw) is not a new fault.
    actions = [a.t for a in history.of(FaultAction) if a.phase.injects and a.t < end]
    since = max(actions, default=t_ready)
    until = since + spec.within if spec.within is not None else INF
    what = "the last fault" if actions else "ready"
    chosen = [p for p in after_ready if since <= p.t <= until]
    span = f" within {limit(spec.within)}" if spec.within is not None else ""
    return chosen, f"some reading{span} after {what} at {secs(since)}"


def _reading(p: ProbeResult, path: str) -> object:
    if not p.ok:
        return f"<failed: {p.error or p.status}>"
    return read_path(p.value, path)


def check(spec: ProbeCheckSpec, history: History) -> InvariantResult:
    """Judge the selected readings; an empty selection fails ("nothing to judge")."""
    chosen, what = _chosen(spec, history)
    target = f"{spec.name}.{spec.path}" if spec.path else spec.name
    expected = f"{target} {spec.describe()} at {what}"
    if not chosen:
        return result(
            KIND,
            spec,
            False,
            f"no reading of probe {spec.name} qualifies as {what}; nothing to judge",
            expected=expected,
            observed="no reading",
        )
    good = [p for p in chosen if p.ok and spec.holds(read_path(p.value, spec.path), p.instance)]
    bad = [p for p in chosen if p not in good]
    metrics = {"probe_readings": len(chosen), "probe_violations": len(bad)}
    if spec.at == "eventually":
        ok = bool(good)
        deciding = good[0] if good else chosen[-1]
        seen = _reading(deciding, spec.path)
        if ok:
            detail = f"{target} was {shown(seen)} at {secs(deciding.t)}, {what}"
        else:
            detail = (
                f"{target} never {spec.describe()} in {len(chosen)} reading(s) as {what};"
                f" last seen {shown(seen)} at {secs(deciding.t)}"
            )
        return result(
            KIND,
            spec,
            ok,
            detail,
            expected=expected,
            observed=shown(seen),
            metrics=metrics,
            evidence=[deciding.t],
        )
    if bad:
        first = bad[0]
        seen = _reading(first, spec.path)
        detail = (
            f"{target} was {shown(seen)} at {secs(first.t)}; expected it {spec.describe()}"
            f" at {what} ({len(bad)} of {len(chosen)} reading(s) did not)"
        )
        return result(
            KIND,
            spec,
            False,
            detail,
            expected=expected,
            observed=shown(seen),
            metrics=metrics,
            evidence=[p.t for p in bad[:20]],
        )
    last = chosen[-1]
    seen = _reading(last, spec.path)
    detail = f"{target} {spec.describe()} at {what} ({len(chosen)} reading(s), last {shown(seen)})"
    return result(
        KIND,
        spec,
        True,
        detail,
        expected=expected,
        observed=shown(seen),
        metrics=metrics,
        evidence=[p.t for p in chosen[:1]] + [last.t],
    )


CHECKER = Checker(KIND, ProbeCheckSpec, check, refs={"name": "probe"})

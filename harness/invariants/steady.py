"""``steady``: the steady state holds before the first fault (the chaos-engineering baseline).

If the system is not healthy before anything is broken, a failure after the fault proves
nothing about the fault; this names that case instead of blaming recovery.
"""

from __future__ import annotations

from typing import ClassVar

from harness.invariants.base import Checker, History
from harness.invariants.lifetimes import ready_times, teardown_start
from harness.invariants.outcome import result, secs
from harness.invariants.values import Expectation, read_path, shown
from harness.observe.events import FaultAction, ProbeResult
from harness.spec.verdict import InvariantResult

KIND = "steady"


class SteadySpec(Expectation):
    """``steady: {probe, path, equals|matches|in|above|below}``."""

    not_templates: ClassVar[frozenset[str]] = frozenset({"probe", "path", "equals", "in_"})

    probe: str
    path: str = ""


def check(spec: SteadySpec, history: History) -> InvariantResult:
    """Every ok reading between ready and the first fault meets the expectation."""
    ready = ready_times(history)
    starts = [a.t for a in history.of(FaultAction) if a.phase.injects]
    until = min(starts, default=teardown_start(history))
    until = min(until, history.end + 1e-9)
    readings = [
        p
        for p in history.of(ProbeResult)
        if p.name == spec.probe and p.ok and ready.get(p.instance, 0.0) <= p.t < until
    ]
    target = f"{spec.probe}.{spec.path}" if spec.path else spec.probe
    before = "the first fault" if starts else "teardown"
    expected = f"{target} {spec.describe()} from ready until {before} at {secs(until)}"
    if not readings:
        return result(
            KIND,
            spec,
            False,
            f"no ok reading of probe {spec.probe} between ready and {before} at"
            f" {secs(until)}; nothing to judge",
            expected=expected,
            observed="no reading",
        )
    bad = [p for p in readings if not spec.holds(read_path(p.value, spec.path), p.instance)]
    if bad:
        seen = read_path(bad[0].value, spec.path)
        detail = (
            f"{target} was {shown(seen)} at {secs(bad[0].t)}, before {before} at {secs(until)};"
            f" expected it {spec.describe()} ({len(bad)} of {len(readings)} reading(s) did not)"
        )
        return result(
            KIND,
            spec,
            False,
            detail,
            expected=expected,
            observed=shown(seen),
            evidence=[p.t for p in bad[:20]],
        )
    return result(
        KIND,
        spec,
        True,
        f"{target} {spec.describe()} in all {len(readings)} reading(s) before {before}"
        f" at {secs(until)}",
        expected=expected,
        observed=shown(read_path(readings[-1].value, spec.path)),
        evidence=[readings[0].t, readings[-1].t],
    )


CHECKER = Checker(KIND, SteadySpec, check, refs={"probe": "probe"})

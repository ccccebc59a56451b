"""``availability``: the share of a workload's requests that succeeded.

Jan's "failed to fetch": while the backend recovers, the client must see no (or few)
errors. Requests sent after teardown began are left out: stopping the system is not a
fault. ``during: faults`` counts only requests sent from the first fault on.
"""

from __future__ import annotations

from collections import Counter
from typing import ClassVar, Literal

from harness.invariants.base import Checker, History
from harness.invariants.lifetimes import teardown_start
from harness.invariants.outcome import listing, result, secs
from harness.observe.events import FaultAction, Request
from harness.spec.kinds import InvariantSpec
from harness.spec.units import Fraction
from harness.spec.verdict import InvariantResult

KIND = "availability"


class AvailabilitySpec(InvariantSpec):
    """``availability: {workload, min, during: all|faults}``."""

    not_templates: ClassVar[frozenset[str]] = frozenset({"workload", "during"})

    workload: str
    min: Fraction
    during: Literal["all", "faults"] = "all"


def _why(request: Request) -> str:
    if request.error:
        return request.error if len(request.error) <= 80 else request.error[:77] + "..."
    if request.status is not None:
        return f"status {request.status}"
    return "failed"


def _percent(x: float) -> str:
    return f"{x * 100:.4g}%"


def check(spec: AvailabilitySpec, history: History) -> InvariantResult:
    """ok / total over the chosen window; fail if no request was recorded at all."""
    end = teardown_start(history)
    requests = [r for r in history.of(Request) if r.workload == spec.workload and r.t < end]
    window = "the trial"
    if spec.during == "faults":
        starts = [a.t for a in history.of(FaultAction) if a.phase.injects]
        if not starts:
            return result(
                KIND,
                spec,
                False,
                f"no fault was recorded, so no {spec.workload} request was sent during one;"
                " nothing to judge",
                expected=f"at least {_percent(spec.min)} of requests during faults succeed",
                observed="no fault",
            )
        first = min(starts)
        requests = [r for r in requests if r.t >= first]
        window = f"faults (from {secs(first)})"
    expected = f"at least {_percent(spec.min)} of {spec.workload} requests succeed"
    if not requests:
        return result(
            KIND,
            spec,
            False,
            f"no requests were recorded for workload {spec.workload} during {window}",
            expected=expected,
            observed="0 requests",
            metrics={"requests": 0, "errors": 0},
        )
    errors = [r for r in requests if not r.ok]
    share = (len(requests) - len(errors)) / len(requests)
    metrics = {"availability": share, "requests": len(requests), "errors": len(errors)}
    detail = (
        f"{_percent(share)} of {len(requests)} {spec.workload} requests succeeded during {window}"
    )
    if errors:
        common = Counter(_why(r) for r in errors).most_common()
        detail += f" ({len(errors)} failed: {listing(f'{n}x {why}' for why, n in common)})"
    ok = share >= spec.min
    detail += f"; expected at least {_percent(spec.min)}"
    if not ok:
        detail += f" ({(spec.min - share) * 100:.3g} points short)"
    return result(
        KIND,
        spec,
        ok,
        detail,
        expected=expected,
        observed=f"{len(requests) - len(errors)}/{len(requests)} ok",
        metrics=metrics,
        evidence=[r.t for r in errors[:20]],
    )


CHECKER = Checker(KIND, AvailabilitySpec, check, refs={"workload": "workload"})

"""``ledger``: every acknowledged piece of work is accounted for at the end (SolidQueue).

The harness keeps its own ledger (the ids of acknowledged requests, ``Request.recorded``)
and, at the end of the trial, looks each id up (``collect``, one ``Lookup`` event per id).
``check`` then needs only the timeline: an id with no lookup or a non-2xx lookup is lost,
a final value outside ``final.in`` (when given) is unsettled (it never settled within
``settle``), and ``never`` catches duplicates (``runs`` above 1: finished twice) and
unbounded retries (``attempts`` above 2); an id above ``never`` is decided at once. Each is
its own metric (``lost``, ``unsettled``, ``duplicated``), so a job that never settles is
never hidden behind ``lost: 0``. The system's own summary is never trusted.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any, ClassVar

from pydantic import Field

from harness.invariants.base import Checker, CollectContext, History
from harness.invariants.outcome import limit, listing, result
from harness.invariants.values import MISSING, read_path, shown
from harness.observe.events import Lookup, Request
from harness.scenario.templates import escape
from harness.spec.kinds import InvariantSpec
from harness.spec.units import Duration
from harness.spec.verdict import InvariantResult

KIND = "ledger"

POLL_S = 0.1
"""Pause between two lookup rounds while work is still settling."""


class FinalSpec(InvariantSpec):
    """``final: {path, in: [...]}``: where a settled item's state is, and settled values."""

    not_templates: ClassVar[frozenset[str]] = frozenset({"path", "in_"})

    path: str
    in_: list[Any] = Field(alias="in", min_length=1)


class NeverSpec(InvariantSpec):
    """``never: {path, above}``: a number that must never exceed ``above``."""

    not_templates: ClassVar[frozenset[str]] = frozenset({"path"})

    path: str
    above: float


class LedgerSpec(InvariantSpec):
    """``ledger: {workload, lookup, settle, final?, never?}``; without ``final`` an id is
    accounted for when its lookup answers 2xx."""

    not_templates: ClassVar[frozenset[str]] = frozenset({"workload"})
    template_extras: ClassVar[dict[str, frozenset[str]]] = {"lookup": frozenset({"id"})}

    workload: str
    lookup: str
    settle: Duration
    final: FinalSpec | None = None
    never: NeverSpec | None = None


def acknowledged(workload: str, requests: list[Request]) -> dict[str, Request]:
    """Id → the acknowledged request that returned it (ok, with a recorded id)."""
    return {
        str(r.recorded): r
        for r in requests
        if r.workload == workload and r.ok and r.recorded is not None
    }


def _settled(spec: LedgerSpec, status: int | None, value: Any) -> bool:
    return (
        status is not None
        and 200 <= status < 300
        and (spec.final is None or read_path(value, spec.final.path) in spec.final.in_)
    )


def broke_never(spec: LedgerSpec, status: int | None, value: Any) -> bool:
    """The ``never`` limit is exceeded in this reading: the id is judged, whatever comes
    after (a number above the limit once was above it)."""
    if spec.never is None or status is None or not 200 <= status < 300:
        return False
    number = read_path(value, spec.never.path)
    return (
        isinstance(number, int | float)
        and not isinstance(number, bool)
        and number > spec.never.above
    )


def collect(spec: LedgerSpec, ctx: CollectContext) -> None:
    """Poll every acknowledged id until it settles, breaks ``never`` (decided: a poison job
    at its third attempt fails now, not at the end of ``settle``) or ``settle`` passes;
    record the last reading of each as a ``Lookup``. Never past ``ctx.deadline``."""
    ids = acknowledged(spec.workload, ctx.timeline.of(Request))
    until = min(ctx.settle_started + spec.settle, ctx.deadline)
    last: dict[str, tuple[int | None, Any, str | None]] = {}
    pending = list(ids)
    while pending:
        for key in list(pending):
            instance = ids[key].instance
            url = ctx.resolve(spec.lookup.replace("{id}", escape(key)), instance)
            remaining = max(0.1, min(2.0, ctx.deadline - time.monotonic()))
            last[key] = ctx.http_json("GET", url, remaining)
            status, value, _ = last[key]
            if _settled(spec, status, value) or broke_never(spec, status, value):
                pending.remove(key)
        if not pending or time.monotonic() + POLL_S >= until:
            break
        time.sleep(POLL_S)  # the system is given time to settle: a paced poll, not a wait
    for key, (status, value, error) in last.items():
        ctx.timeline.record(
            Lookup(
                t=ctx.timeline.now(),
                workload=spec.workload,
                instance=ids[key].instance,
                key=key,
                status=status,
                value=value,
                error=error,
            )
        )


def check(spec: LedgerSpec, history: History) -> InvariantResult:
    """Lost, unsettled and duplicated ids fail; metrics count ids by final value."""
    ids = acknowledged(spec.workload, history.of(Request))
    lookups = {e.key: e for e in history.of(Lookup) if e.workload == spec.workload}
    expected = f"every acknowledged {spec.workload} id found"
    if spec.final is not None:
        expected += f" with {spec.final.path} in {spec.final.in_!r}"
    expected += f" within {limit(spec.settle)} of traffic stopping"
    if spec.never is not None:
        expected += f", {spec.never.path} never above {spec.never.above:g}"
    if not ids:
        return result(
            KIND,
            spec,
            False,
            f"no acknowledged {spec.workload} request recorded an id; nothing to judge",
            expected=expected,
            observed="no ids",
            metrics={"acknowledged": 0},
        )
    lost: list[str] = []
    unsettled: list[str] = []
    twice: list[str] = []
    finals: Counter[str] = Counter()
    evidence: list[float] = []
    for key, request in ids.items():
        found = lookups.get(key)
        if found is None or found.status is None or not 200 <= found.status < 300:
            why = "no lookup" if found is None else (found.error or f"status {found.status}")
            lost.append(f"{key} ({why})")
            evidence.append(request.t)
            finals["<lost>"] += 1
            continue
        final = read_path(found.value, spec.final.path) if spec.final else "<found>"
        finals["<missing>" if final is MISSING else str(final)] += 1
        if spec.never is not None and broke_never(spec, found.status, found.value):
            # Judged when it broke the limit; its polling stopped there, so whether it
            # would have settled is not known and not claimed.
            value = read_path(found.value, spec.never.path)
            twice.append(f"{key} ({spec.never.path}={value:g})")
            evidence.append(request.t)
        elif spec.final is not None and final not in spec.final.in_:
            unsettled.append(f"{key} ({spec.final.path}={shown(final)})")
            evidence.append(request.t)
    metrics: dict[str, Any] = {
        "acknowledged": len(ids),
        "lost": len(lost),
        "unsettled": len(unsettled),
        "duplicated": len(twice),
        "ledger": dict(sorted(finals.items())),
    }
    problems = []
    if lost:
        problems.append(f"{len(lost)} lost: {listing(lost)}")
    if unsettled:
        problems.append(f"{len(unsettled)} not settled: {listing(unsettled)}")
    if twice:
        problems.append(
            f"{len(twice)} with {spec.never.path if spec.never else ''} too high: {listing(twice)}"
        )
    counts = ", ".join(f"{n} {v}" for v, n in sorted(finals.items()))
    if problems:
        detail = f"of {len(ids)} acknowledged ids, {'; '.join(problems)}; expected {expected}"
    else:
        detail = f"all {len(ids)} acknowledged ids accounted for ({counts})"
    return result(
        KIND,
        spec,
        not problems,
        detail,
        expected=expected,
        observed=counts,
        metrics=metrics,
        evidence=evidence[:20],
    )


CHECKER = Checker(KIND, LedgerSpec, check, collect=collect, refs={"workload": "workload"})

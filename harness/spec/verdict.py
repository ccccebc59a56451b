"""The verdict of one invariant on one trial: what every checker returns.

``detail`` is one sentence a person reads first (expected vs seen, by how much);
``evidence`` lists the trial times (``t``) of the events that decided it, so reports can
show the timeline around them; ``metrics`` are numbers worth aggregating (``recovery_s``:
one value per fault).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Verdict(StrEnum):
    """``pass``: every invariant held. ``fail``: the system broke one (or never became
    ready). ``error``: the harness could not judge (a host problem or our own bug).
    ``skip``: the scenario could not run here (a ``requires`` executable is missing)."""

    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    SKIP = "skip"


class Outcome(StrEnum):
    """A verdict read against what the scenario expects (pytest's strict xfail).

    With ``expect: fail`` a failed trial is ``xfail`` (as expected: it does not fail the
    run) and a passed one ``xpass`` (the known weakness is gone or the scenario no longer
    catches it: it fails the run); ``error`` and ``skip`` stay what they are. Without an
    expectation an outcome is its verdict.
    """

    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    SKIP = "skip"
    XFAIL = "xfail"
    XPASS = "xpass"

    @property
    def bad(self) -> bool:
        """Whether this outcome fails a run (exit 1 or 3)."""
        return self in (Outcome.FAIL, Outcome.ERROR, Outcome.XPASS)


def outcome(verdict: Verdict, expected_failure: str | None) -> Outcome:
    """``verdict`` read against ``expected_failure`` (the reason of ``expect: fail``)."""
    if expected_failure is not None:
        if verdict is Verdict.FAIL:
            return Outcome.XFAIL
        if verdict is Verdict.PASS:
            return Outcome.XPASS
    return Outcome(verdict.value)


@dataclass(frozen=True)
class InvariantResult:
    """One invariant judged on one trial's timeline."""

    kind: str
    verdict: Verdict
    detail: str
    expected: str | None = None
    observed: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    evidence: list[float] = field(default_factory=list)
    spec: dict[str, Any] = field(default_factory=dict)

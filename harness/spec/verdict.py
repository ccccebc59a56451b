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

"""Building an ``InvariantResult`` the same way in every checker.

Every verdict carries its spec as JSON and its sentence written with the same number
formats (``3.21s``), so reports read alike whichever checker produced them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from harness.spec.kinds import InvariantSpec
from harness.spec.verdict import InvariantResult, Verdict


def secs(seconds: float) -> str:
    """A trial time or a measured duration: ``3.21s``."""
    return f"{seconds:.2f}s"


def limit(seconds: float) -> str:
    """A duration as the scenario wrote it, more or less: ``2s``, ``500ms``."""
    if seconds < 1.0:
        return f"{seconds * 1000:g}ms"
    return f"{seconds:g}s"


def result(
    kind: str,
    spec: InvariantSpec,
    ok: bool,
    detail: str,
    *,
    expected: str | None = None,
    observed: str | None = None,
    metrics: dict[str, Any] | None = None,
    evidence: Iterable[float] = (),
) -> InvariantResult:
    """A pass (``ok``) or fail verdict with its sentence, numbers and deciding times."""
    return InvariantResult(
        kind=kind,
        verdict=Verdict.PASS if ok else Verdict.FAIL,
        detail=detail,
        expected=expected,
        observed=observed,
        metrics=dict(metrics or {}),
        evidence=sorted({round(t, 6) for t in evidence}),
        spec=spec.model_dump(mode="json", by_alias=True),
    )


def listing(items: Iterable[str], most: int = 3) -> str:
    """``a; b; c (and 4 more)``: the first few of a list, for one-sentence details."""
    items = list(items)
    shown = "; ".join(items[:most])
    return shown + (f" (and {len(items) - most} more)" if len(items) > most else "")

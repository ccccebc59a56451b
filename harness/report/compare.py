"""``chaos compare BASE HEAD``: did recovery get slower between two versions, phase by phase?

Faults within one trial are not independent: two kills that land at the same point of a
supervisor's 0.5 s poll loop recover in the same time, so counting them as two samples
makes noise look significant. The unit is therefore the trial: one value per trial and
metric (the median of its faults). Per scenario and metric (each recovery phase by
default), a Mann-Whitney U test on those units gives the p-value, corrected with Holm's
method across the scenario's metrics; the Hodges-Lehmann estimate gives the shift, with
its exact confidence interval. A regression needs significance (corrected ``p < alpha``)
and a practical effect (the shift is worse by more than ``threshold`` of the base median
and by more than ``min_delta``). Runs too few for the test ever to reach ``alpha``, or an
apparent change the data cannot confirm, say so, with how many trials would tell
(docs/statistics.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from math import inf as INF

from harness.invariants.phases import PHASES, metric_name
from harness.report.stats import (
    Shift,
    hodges_lehmann,
    holm,
    mann_whitney_u,
    median,
    percentile,
    smallest_p,
    superiority,
    trials_needed,
    trials_to_tell,
)
from harness.results.model import RunResult, TrialResult
from harness.spec.verdict import Verdict

RECOVERY = "recovery"
"""The default ``--metric``: every recovery phase the journals measured."""
PHASE_METRICS = tuple(metric_name(p) for p in PHASES)
LEGACY_METRIC = "recovery_s"
"""What journals written before recovery phases hold (kill → a replacement process)."""
HIGHER_IS_BETTER = frozenset({"availability"})


class Change(StrEnum):
    REGRESSED = "regressed"
    IMPROVED = "improved"
    UNCHANGED = "unchanged"
    TOO_FEW = "too few to tell"
    NOT_COMPARABLE = "not comparable"


def trial_units(trials: list[TrialResult], metric: str) -> tuple[list[float], int]:
    """One value per trial (the median of its values of ``metric``; errors excluded), and
    how many values they summarise."""
    units: list[float] = []
    count = 0
    for trial in trials:
        if trial.verdict is Verdict.ERROR:
            continue
        raw = trial.metrics.get(metric)
        items = raw if isinstance(raw, list) else [raw]
        values = [float(v) for v in items if isinstance(v, int | float) and not isinstance(v, bool)]
        if values:
            units.append(median(values))
            count += len(values)
    return units, count


@dataclass(frozen=True)
class Side:
    """One run's units (one per trial) for one scenario and metric."""

    values: list[float]
    faults: int = 0
    """How many values (faults) the units summarise."""

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def median(self) -> float | None:
        return median(self.values) if self.values else None

    @property
    def p95(self) -> float | None:
        return percentile(self.values, 95) if self.values else None


@dataclass(frozen=True)
class ScenarioComparison:
    """One scenario and one metric, base against head."""

    name: str
    base: Side
    head: Side
    change: Change
    delta: float | None = None
    """The shift relative to the base median (0.25: 25% higher)."""
    p_value: float | None = None
    """Holm-corrected across the scenario's metrics (what is compared with ``alpha``)."""
    reason: str = ""
    metric: str = LEGACY_METRIC
    shift: Shift | None = None
    raw_p: float | None = None
    needed: int | None = None
    """Trials per side that would tell, when these could not."""


@dataclass
class Comparison:
    metric: str
    threshold: float
    alpha: float
    scenarios: list[ScenarioComparison] = field(default_factory=list)
    """One row per scenario and metric."""
    min_delta: float = 0.0
    """Smallest absolute shift that can count (metric units)."""

    @property
    def regressed(self) -> bool:
        """True when any scenario regressed beyond the threshold with significance."""
        return any(s.change is Change.REGRESSED for s in self.scenarios)


# --------------------------------------------------------------------------- judgement


@dataclass(frozen=True)
class _Test:
    base: Side
    head: Side
    shift: Shift
    raw_p: float


def _test(base: Side, head: Side, alpha: float) -> _Test:
    shift = hodges_lehmann(head.values, base.values, confidence=1.0 - alpha)
    return _Test(base, head, shift, mann_whitney_u(head.values, base.values).p_value)


def _fmt_shift(shift: Shift, metric: str) -> str:
    text = f"shift {_signed(shift.estimate, metric)}"
    if shift.low is None or shift.high is None:
        return text + " (too few trials for an interval)"
    confidence = f"{shift.confidence:.0%}"
    return f"{text}, {confidence} CI {_signed(shift.low, metric)}..{_signed(shift.high, metric)}"


def _signed(value: float, metric: str) -> str:
    if metric.endswith("_s"):
        return f"{value * 1000:+.0f} ms"
    return f"{value:+.4g}"


def _judge(
    name: str,
    metric: str,
    test: _Test,
    p: float,
    threshold: float,
    alpha: float,
    min_delta: float,
) -> ScenarioComparison:
    base, head, shift = test.base, test.head, test.shift
    b = base.median or 0.0
    estimate = shift.estimate
    delta = estimate / b if b else (0.0 if estimate == 0 else float("inf"))
    higher = metric in HIGHER_IS_BETTER
    practical = max(min_delta, threshold * abs(b))
    worse = (estimate < -practical) if higher else (estimate > practical)
    better = (estimate > practical) if higher else (estimate < -practical)
    # Flagged only when the whole interval is beyond the practical threshold: noise that
    # happens to reach significance on a shared machine rarely clears that bar too.
    low = -INF if shift.low is None else shift.low
    high = INF if shift.high is None else shift.high
    surely_up, surely_down = low > practical, high < -practical
    surely_worse, surely_better = (surely_down, surely_up) if higher else (surely_up, surely_down)
    stats = f"median {delta:+.0%} ({_fmt_shift(shift, metric)}), p={p:.3g}"
    trials = f"{base.n} vs {head.n} trials"
    row = ScenarioComparison(
        name, base, head, Change.UNCHANGED, delta, p, "", metric, shift, test.raw_p
    )
    if p < alpha and surely_worse:
        return _with(row, Change.REGRESSED, f"{stats}; {trials}")
    if p < alpha and surely_better:
        return _with(row, Change.IMPROVED, f"{stats}; {trials}")
    if worse or better:
        needed = trials_needed(superiority(head.values, base.values), alpha)
        more = f"; about {needed} trials per side would tell a shift this size" if needed else ""
        counts = _signed(practical, metric).lstrip("+")
        if p < alpha:
            why = (
                f"{stats}: significant, but the interval reaches back within the {counts} that"
                f" counts ({trials}){more}"
            )
        else:
            why = f"{stats}: not significant; {trials} cannot tell this shift from noise{more}"
        return _with(row, Change.TOO_FEW, why, needed)
    if abs(estimate) <= min_delta:
        why = f"|shift| {abs(estimate):.3g} within the minimum {min_delta:g}"
    else:
        why = f"|shift| within {threshold:.0%} of the base median"
    return _with(row, Change.UNCHANGED, f"{why}; {stats}")


def _with(
    row: ScenarioComparison, change: Change, reason: str, needed: int | None = None
) -> ScenarioComparison:
    return replace(row, change=change, reason=reason, needed=needed)


def _metrics_of(metric: str, base: list[TrialResult], head: list[TrialResult]) -> list[str]:
    """The metrics compared for one scenario: every recovery phase either side measured
    (``recovery_s`` for journals older than phases), or the one asked for."""
    if metric != RECOVERY:
        return [metric]
    present = [
        m
        for m in PHASE_METRICS
        if any(m in t.metrics for t in base) or any(m in t.metrics for t in head)
    ]
    return present or [LEGACY_METRIC]


def _legacy(trials: list[TrialResult]) -> bool:
    """Trials with ``recovery_s`` but no phase: a journal from before recovery phases."""
    return any(LEGACY_METRIC in t.metrics for t in trials) and not any(
        m in t.metrics for t in trials for m in PHASE_METRICS
    )


def _scenario(
    name: str,
    base: list[TrialResult],
    head: list[TrialResult],
    metric: str,
    threshold: float,
    alpha: float,
    min_delta: float,
) -> list[ScenarioComparison]:
    metrics = _metrics_of(metric, base, head)
    rows: dict[str, ScenarioComparison] = {}
    tests: dict[str, _Test] = {}
    for m in metrics:
        base_side, head_side = Side(*trial_units(base, m)), Side(*trial_units(head, m))
        if base_side.n == 0 or head_side.n == 0:
            missing = "base" if base_side.n == 0 else "head"
            reason = f"no {m} values in {missing}"
            if m in PHASE_METRICS and _legacy(base if missing == "base" else head):
                reason += " (written before recovery phases: re-run that version to compare them)"
            rows[m] = ScenarioComparison(
                name, base_side, head_side, Change.NOT_COMPARABLE, reason=reason, metric=m
            )
        else:
            tests[m] = _test(base_side, head_side, alpha)
    family = len(tests)
    for m, test in tests.items():
        m_b, m_h = test.base.n, test.head.n
        if smallest_p(m_b, m_h) * family >= alpha:
            need = trials_to_tell(alpha, family)
            across = f" over {family} metrics (Holm)" if family > 1 else ""
            b = test.base.median or 0.0
            rows[m] = ScenarioComparison(
                name,
                test.base,
                test.head,
                Change.TOO_FEW,
                delta=test.shift.estimate / b if b else None,
                reason=(
                    f"{m_b} vs {m_h} trials: the smallest p possible is"
                    f" {smallest_p(m_b, m_h):.3g}{across}, never below {alpha:g};"
                    f" at least {need} trials per side needed"
                ),
                metric=m,
                shift=test.shift,
                raw_p=test.raw_p,
                needed=need,
            )
    judged = [m for m in tests if m not in rows]
    adjusted = dict(zip(tests, holm([t.raw_p for t in tests.values()]), strict=True))
    for m in judged:
        rows[m] = _judge(name, m, tests[m], adjusted[m], threshold, alpha, min_delta)
    return [rows[m] for m in metrics]


def compare(
    base: RunResult,
    head: RunResult,
    *,
    metric: str = RECOVERY,
    threshold: float = 0.10,
    alpha: float = 0.05,
    min_delta: float = 0.0,
) -> Comparison:
    """Compare ``metric`` (default: every recovery phase) per scenario, matched by name."""

    def trials(run: RunResult) -> dict[str, list[TrialResult]]:
        return {s.name: s.trials for s in run.scenarios}

    base_trials, head_trials = trials(base), trials(head)
    names = list(dict.fromkeys([*base_trials, *head_trials]))
    result = Comparison(metric=metric, threshold=threshold, alpha=alpha, min_delta=min_delta)
    for name in names:
        result.scenarios += _scenario(
            name,
            base_trials.get(name, []),
            head_trials.get(name, []),
            metric,
            threshold,
            alpha,
            min_delta,
        )
    return result

"""``chaos compare BASE HEAD``: did recovery get slower between two versions?

Per scenario, the metric's values (one per fault per trial) of both runs side by side, a
Mann-Whitney U test (few samples, skewed, not normal) and a verdict. A regression needs
both a practical effect (median worse by more than ``threshold``) and significance
(``p < alpha``), so noise between two runs of one version is not flagged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness.report import escape
from harness.report.excerpt import metric_values
from harness.report.stats import mann_whitney_u, median, percentile
from harness.results.model import RunResult

MIN_SAMPLES = 3
HIGHER_IS_BETTER = frozenset({"availability"})


class Change(StrEnum):
    REGRESSED = "regressed"
    IMPROVED = "improved"
    UNCHANGED = "unchanged"
    NOT_COMPARABLE = "not comparable"


@dataclass(frozen=True)
class Side:
    """One run's values for one scenario."""

    values: list[float]

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
    name: str
    base: Side
    head: Side
    change: Change
    delta: float | None = None
    """Relative change of the median, head vs base (0.25: 25% higher)."""
    p_value: float | None = None
    reason: str = ""


@dataclass
class Comparison:
    metric: str
    threshold: float
    alpha: float
    scenarios: list[ScenarioComparison] = field(default_factory=list)
    min_delta: float = 0.0
    """Smallest absolute change of the median that can count (metric units)."""

    @property
    def regressed(self) -> bool:
        """True when any scenario regressed beyond the threshold with significance."""
        return any(s.change is Change.REGRESSED for s in self.scenarios)


def _judge(
    name: str,
    base: Side,
    head: Side,
    metric: str,
    threshold: float,
    alpha: float,
    min_delta: float = 0.0,
) -> ScenarioComparison:
    if base.n == 0 or head.n == 0:
        missing = "base" if base.n == 0 else "head"
        return ScenarioComparison(
            name, base, head, Change.NOT_COMPARABLE, reason=f"no {metric} values in {missing}"
        )
    if base.n < MIN_SAMPLES or head.n < MIN_SAMPLES:
        return ScenarioComparison(
            name,
            base,
            head,
            Change.NOT_COMPARABLE,
            reason=f"fewer than {MIN_SAMPLES} values on a side",
        )
    b, h = base.median, head.median
    assert b is not None
    assert h is not None
    delta = (h - b) / b if b else (0.0 if h == b else float("inf"))
    p = mann_whitney_u(head.values, base.values).p_value
    worse = delta > threshold if metric not in HIGHER_IS_BETTER else delta < -threshold
    better = delta < -threshold if metric not in HIGHER_IS_BETTER else delta > threshold
    if abs(h - b) <= min_delta:
        # A few milliseconds of scheduling jitter on a shared machine is not a regression,
        # however significant: the change must also be large in absolute terms.
        worse = better = False
    if p < alpha and worse:
        change, reason = Change.REGRESSED, f"median {delta:+.0%}, p={p:.3g}"
    elif p < alpha and better:
        change, reason = Change.IMPROVED, f"median {delta:+.0%}, p={p:.3g}"
    else:
        change = Change.UNCHANGED
        if p >= alpha:
            reason = f"p={p:.3g} ≥ {alpha:g}"
        elif abs(h - b) <= min_delta:
            reason = f"|Δ median| {abs(h - b):.3g} within the minimum {min_delta:g}"
        else:
            reason = f"|Δ median| within {threshold:.0%}"
    return ScenarioComparison(name, base, head, change, delta, p, reason)


def compare(
    base: RunResult,
    head: RunResult,
    *,
    metric: str = "recovery_s",
    threshold: float = 0.10,
    alpha: float = 0.05,
    min_delta: float = 0.0,
) -> Comparison:
    """Compare ``metric`` per scenario (matched by name) between two runs.

    A scenario regressed when its median is worse by more than ``threshold`` (relative)
    and by more than ``min_delta`` (absolute), and the difference is significant.
    """

    def sides(run: RunResult) -> dict[str, Side]:
        return {s.name: Side(metric_values(s.trials, metric)) for s in run.scenarios}

    base_sides, head_sides = sides(base), sides(head)
    names = list(dict.fromkeys([*base_sides, *head_sides]))
    result = Comparison(metric=metric, threshold=threshold, alpha=alpha, min_delta=min_delta)
    for name in names:
        result.scenarios.append(
            _judge(
                name,
                base_sides.get(name, Side([])),
                head_sides.get(name, Side([])),
                metric,
                threshold,
                alpha,
                min_delta,
            )
        )
    return result


# --------------------------------------------------------------------------- rendering


def _fmt(value: float | None, metric: str) -> str:
    if value is None:
        return "-"
    if metric.endswith("_s"):
        return f"{value * 1000:.0f} ms"
    return f"{value:.4g}"


def _delta(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1%}"


STYLE = {
    Change.REGRESSED: "bold red",
    Change.IMPROVED: "bold green",
    Change.UNCHANGED: "dim",
    Change.NOT_COMPARABLE: "yellow",
}


def _num(value: float | None, metric: str) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:.0f}" if metric.endswith("_s") else f"{value:.4g}"


def render_compare(cmp: Comparison, console: Console) -> None:
    """A rich table: base vs head per scenario, then the overall verdict."""
    unit = " (ms)" if cmp.metric.endswith("_s") else ""
    table = Table(
        title=f"compare {cmp.metric}{unit} (threshold {cmp.threshold:.0%}, alpha {cmp.alpha:g})",
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
    )
    for column in (
        "scenario",
        "base n",
        "median",
        "p95",
        "head n",
        "median",
        "p95",
        "Δ",
        "p",
        "verdict",
    ):
        table.add_column(
            column, justify="left" if column in ("scenario", "verdict") else "right", no_wrap=True
        )
    for s in cmp.scenarios:
        table.add_row(
            escape.console(s.name),
            str(s.base.n),
            _num(s.base.median, cmp.metric),
            _num(s.base.p95, cmp.metric),
            str(s.head.n),
            _num(s.head.median, cmp.metric),
            _num(s.head.p95, cmp.metric),
            _delta(s.delta),
            "-" if s.p_value is None else f"{s.p_value:.3g}",
            Text(str(s.change), STYLE[s.change]),
        )
    console.print(table)
    for s in cmp.scenarios:
        console.print(
            escape.console(f"{s.name}: ", (str(s.change), STYLE[s.change]), f" ({s.reason})")
        )
    if cmp.regressed:
        console.print(Text("regression: recovery got significantly slower", style="bold red"))
    else:
        console.print(Text("no significant regression", style="green"))


def compare_to_markdown(cmp: Comparison) -> str:
    """The same table in Markdown, for a PR comment or the step summary."""
    icon = {
        Change.REGRESSED: "🔴",
        Change.IMPROVED: "🟢",
        Change.UNCHANGED: "⚪",
        Change.NOT_COMPARABLE: "🟡",
    }
    lines = [
        f"## {'🔴 regression' if cmp.regressed else '✅ no regression'}: `{cmp.metric}` "
        f"(threshold {cmp.threshold:.0%}, alpha {cmp.alpha:g})",
        "",
        "| scenario | base n | base median | base p95 | head n | head median | head p95 "
        "| Δ median | p | verdict |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for s in cmp.scenarios:
        lines.append(
            f"| {escape.markdown(s.name)} | {s.base.n} | {_fmt(s.base.median, cmp.metric)} | "
            f"{_fmt(s.base.p95, cmp.metric)} | {s.head.n} | {_fmt(s.head.median, cmp.metric)} | "
            f"{_fmt(s.head.p95, cmp.metric)} | {_delta(s.delta)} | "
            f"{'-' if s.p_value is None else f'{s.p_value:.3g}'} | "
            f"{icon[s.change]} {s.change} ({escape.markdown(s.reason)}) |"
        )
    return "\n".join(lines) + "\n"

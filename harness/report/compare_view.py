"""How a ``Comparison`` reads: a rich table for the terminal, Markdown for a PR comment.

One row per scenario and metric (each recovery phase by default): trials per side, their
medians, the Hodges-Lehmann shift with its confidence interval, the corrected p-value and
the verdict with its reason.
"""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness.report import escape
from harness.report.compare import Change, Comparison, ScenarioComparison

STYLE = {
    Change.REGRESSED: "bold red",
    Change.IMPROVED: "bold green",
    Change.UNCHANGED: "dim",
    Change.TOO_FEW: "yellow",
    Change.NOT_COMPARABLE: "yellow",
}
ICON = {
    Change.REGRESSED: "🔴",
    Change.IMPROVED: "🟢",
    Change.UNCHANGED: "⚪",
    Change.TOO_FEW: "🟡",
    Change.NOT_COMPARABLE: "🟡",
}


def _label(metric: str) -> str:
    """``recovery_ready_s`` → ``ready``; other metrics as they are."""
    if metric.startswith("recovery_") and metric.endswith("_s") and metric != "recovery_s":
        return metric.removeprefix("recovery_").removesuffix("_s")
    return metric


def _num(value: float | None, metric: str, unit: bool = False) -> str:
    if value is None:
        return "-"
    if metric.endswith("_s"):
        return f"{value * 1000:.0f}" + (" ms" if unit else "")
    return f"{value:.4g}"


def _shift(row: ScenarioComparison, unit: bool = False) -> str:
    shift = row.shift
    if shift is None:
        return "-"
    scale = 1000.0 if row.metric.endswith("_s") else 1.0
    suffix = " ms" if unit and row.metric.endswith("_s") else ""
    text = f"{shift.estimate * scale:+.0f}" if scale != 1.0 else f"{shift.estimate:+.4g}"
    if shift.low is None or shift.high is None:
        return text + suffix + " (no CI)"
    low = f"{shift.low * scale:+.0f}" if scale != 1.0 else f"{shift.low:+.4g}"
    high = f"{shift.high * scale:+.0f}" if scale != 1.0 else f"{shift.high:+.4g}"
    return f"{text}{suffix} [{low}, {high}]"


SHORT = {Change.TOO_FEW: "too few", Change.NOT_COMPARABLE: "n/a"}
"""Verdicts as the table shows them (the lines below it give each in full)."""


def _delta(value: float | None) -> str:
    return "-" if value is None else f"{value:+.0%}"


def _p(row: ScenarioComparison) -> str:
    return "-" if row.p_value is None else f"{row.p_value:.3g}"


def _title(cmp: Comparison) -> str:
    what = "recovery phases" if cmp.metric == "recovery" else cmp.metric
    return (
        f"compare {what}, one value per trial (threshold {cmp.threshold:.0%}, alpha {cmp.alpha:g})"
    )


def render_compare(cmp: Comparison, console: Console) -> None:
    """A rich table: base vs head per scenario and metric, then the overall verdict."""
    table = Table(
        title=_title(cmp),
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        padding=(0, 1),
    )
    columns = ("scenario", "metric", "base n", "median", "head n", "median", "shift (ms)", "Δ")
    for column in (*columns, "p", "verdict"):
        left = column in ("scenario", "metric", "verdict")
        table.add_column(column, justify="left" if left else "right", no_wrap=True)
    for s in cmp.scenarios:
        table.add_row(
            escape.console(s.name),
            _label(s.metric),
            str(s.base.n),
            _num(s.base.median, s.metric),
            str(s.head.n),
            _num(s.head.median, s.metric),
            _shift(s),
            _delta(s.delta),
            _p(s),
            Text(SHORT.get(s.change, str(s.change)), STYLE[s.change]),
        )
    console.print(table)
    for s in cmp.scenarios:
        console.print(
            escape.console(
                f"{s.name} {_label(s.metric)}: ", (str(s.change), STYLE[s.change]), f" ({s.reason})"
            )
        )
    if cmp.regressed:
        console.print(Text("regression: recovery got significantly slower", style="bold red"))
    else:
        console.print(Text("no significant regression", style="green"))
    if any(s.change is Change.TOO_FEW for s in cmp.scenarios):
        console.print(Text("some comparisons need more trials to tell (see above)", style="yellow"))


def compare_to_markdown(cmp: Comparison) -> str:
    """The same table in Markdown, for a PR comment or the step summary."""
    lines = [
        f"## {'🔴 regression' if cmp.regressed else '✅ no regression'}: {_title(cmp)}",
        "",
        "| scenario | metric | base n | base median | head n | head median | shift [CI] "
        "| Δ median | p | verdict |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for s in cmp.scenarios:
        lines.append(
            f"| {escape.markdown(s.name)} | {escape.markdown(_label(s.metric))} | {s.base.n} | "
            f"{_num(s.base.median, s.metric, unit=True)} | {s.head.n} | "
            f"{_num(s.head.median, s.metric, unit=True)} | {_shift(s, unit=True)} | "
            f"{_delta(s.delta)} | {_p(s)} | {ICON[s.change]} {s.change} "
            f"({escape.markdown(s.reason)}) |"
        )
    return "\n".join(lines) + "\n"

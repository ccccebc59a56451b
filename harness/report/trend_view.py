"""How a ``Trend`` reads: a Markdown table, a self-contained HTML chart, a terminal table.

One row (Markdown, terminal) or one x position (HTML) per journal, in series order; a value
``compare`` would have flagged against the point before carries 🔴 (Markdown, terminal) or
a red ring (HTML) with compare's reason. The HTML is one file like the run report: inline
CSS and SVG, nothing loaded, every recorded string escaped.
"""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness.report import escape
from harness.report.colours import MEANINGS
from harness.report.html import STEP_COLOURS, stylesheet
from harness.report.svg import nice_step
from harness.report.trend import AVAILABILITY, Series, Trend, metric_label, value_text

FLAG = "🔴"


def _title(t: Trend) -> str:
    return (
        f"trend over {len(t.points)} journals, ordered by {t.order}"
        f" (marked: compare would flag a regression from the point before;"
        f" threshold {t.threshold:.0%}, alpha {t.alpha:g})"
    )


def _cell(series: Series, metric: str, i: int) -> str:
    text = value_text(metric, series.values[metric][i])
    return f"{text} {FLAG}" if (metric, i) in series.flags else text


def trend_to_markdown(t: Trend) -> str:
    """Per scenario a table: a row per journal, a column per phase and availability."""
    flagged = f"{FLAG} {t.flagged} regression(s)" if t.flagged else "✅ no regression"
    lines = [f"## {flagged}: {escape.markdown(_title(t))}", ""]
    for s in t.series:
        if not s.metrics:
            continue
        lines += [
            f"### {escape.markdown(s.scenario)}",
            "",
            "| # | journal | " + " | ".join(metric_label(m) for m in s.metrics) + " |",
            "|---:|---|" + "---:|" * len(s.metrics),
        ]
        for i, point in enumerate(t.points):
            cells = " | ".join(_cell(s, m, i) for m in s.metrics)
            lines.append(f"| {i + 1} | {escape.markdown(point.label)} | {cells} |")
        for (metric, i), flag in sorted(s.flags.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            lines.append(
                f"\n{FLAG} point {i + 1} ({escape.markdown(t.points[i].label)}),"
                f" {metric_label(metric)}: {escape.markdown(flag.reason)}"
            )
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def render_trend(t: Trend, console: Console) -> None:
    """A terminal table per scenario, then the flagged points with compare's reasons."""
    for s in t.series:
        if not s.metrics:
            continue
        table = Table(
            title=escape.console(f"{s.scenario}: {_title(t)}", style="italic"),
            title_justify="left",
            header_style="bold",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
            padding=(0, 1),
        )
        table.add_column("#", justify="right", no_wrap=True)
        table.add_column("journal", no_wrap=True)
        for metric in s.metrics:
            table.add_column(metric_label(metric), justify="right", no_wrap=True)
        for i, point in enumerate(t.points):
            cells = [
                Text(_cell(s, m, i), style="bold red" if (m, i) in s.flags else "")
                for m in s.metrics
            ]
            table.add_row(str(i + 1), escape.console(point.label), *cells)
        console.print(table)
        for (metric, i), flag in s.flags.items():
            console.print(
                escape.console(
                    ("regression", "bold red"),
                    f" at {i + 1} ({t.points[i].label}), {metric_label(metric)}: {flag.reason}",
                )
            )
    if not t.flagged:
        console.print(Text("no point where compare would flag a regression", style="green"))


# --------------------------------------------------------------------------- HTML

_W, _H, _LEFT, _RIGHT, _TOP, _BOTTOM = 860, 220, 64, 24, 16, 58


def _e(text: object) -> str:
    return escape.html(text)


def _x(i: int, n: int) -> float:
    return _LEFT + (_W - _LEFT - _RIGHT) * (i / (n - 1) if n > 1 else 0.5)


def _chart(t: Trend, s: Series, metrics: list[str], percent: bool) -> str:
    values = [v for m in metrics for v in s.values[m] if v is not None]
    if not values:
        return ""
    scale = 100.0 if percent else 1000.0
    low = min(values) * scale if percent else 0.0
    high = max(values) * scale
    step = nice_step((high - low) or 1.0, 4)
    low = step * (low // step) if percent else 0.0
    top = step * (high // step + 1)
    span = (top - low) or 1.0
    plot = _H - _TOP - _BOTTOM

    def y(v: float) -> float:
        return _TOP + plot * (1 - (v * scale - low) / span)

    n = len(t.points)
    parts = []
    tick = low
    while tick <= top + 1e-9:
        ty = _TOP + plot * (1 - (tick - low) / span)
        unit = "%" if percent else " ms"
        parts.append(
            f'<line x1="{_LEFT}" y1="{ty:.1f}" x2="{_W - _RIGHT}" y2="{ty:.1f}" class="grid"/>'
            f'<text x="{_LEFT - 6}" y="{ty + 4:.1f}" class="tick" text-anchor="end">'
            f"{tick:g}{unit}</text>"
        )
        tick += step
    for i, point in enumerate(t.points):
        parts.append(
            f'<text x="{_x(i, n):.1f}" y="{_H - _BOTTOM + 16}" class="tick" text-anchor="middle">'
            f"{i + 1}</text>"
            f'<text x="{_x(i, n):.1f}" y="{_H - _BOTTOM + 30}" class="tick" '
            f'text-anchor="middle">{_e(point.label[:18])}</text>'
        )
    for metric in metrics:
        colour = STEP_COLOURS.get(metric_label(metric), MEANINGS["request ok"])
        pts = [(i, v) for i, v in enumerate(s.values[metric]) if v is not None]
        path = " ".join(
            f"{'M' if k == 0 else 'L'}{_x(i, n):.1f},{y(v):.1f}" for k, (i, v) in enumerate(pts)
        )
        parts.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for i, v in pts:
            tip = f"{metric_label(metric)} {value_text(metric, v)} at {t.points[i].label}"
            flag = s.flags.get((metric, i))
            parts.append(
                f'<circle cx="{_x(i, n):.1f}" cy="{y(v):.1f}" r="3.5" fill="{colour}">'
                f"<title>{_e(tip)}</title></circle>"
            )
            if flag is not None:
                parts.append(
                    f'<circle cx="{_x(i, n):.1f}" cy="{y(v):.1f}" r="8" class="regression">'
                    f"<title>{_e(tip)}: compare would flag a regression: {_e(flag.reason)}"
                    "</title></circle>"
                )
    legend = "".join(
        f'<span><i style="background:{STEP_COLOURS.get(metric_label(m), MEANINGS["request ok"])}">'
        f"</i>{_e(metric_label(m))}</span>"
        for m in metrics
    )
    if any(m in metrics for m, _ in s.flags):
        legend += '<span><b class="ring">◯</b>compare would flag a regression</span>'
    return (
        f'<div class="chart"><svg class="trend" viewBox="0 0 {_W} {_H}" width="{_W}" '
        f'height="{_H}" role="img" aria-label="{_e(s.scenario)} trend">{"".join(parts)}</svg>'
        f'</div><div class="legend">{legend}</div>'
    )


def trend_to_html(t: Trend) -> str:
    """The trend as one self-contained HTML document: per scenario, recovery per phase
    (ms) and availability (%) over the points, flagged points ringed."""
    css = stylesheet() + (
        "svg .regression { fill: none; stroke: #cf222e; stroke-width: 2.5; }"
        " .legend b.ring { color: #cf222e; }"
    )
    sections = []
    for s in t.series:
        phases = [m for m in s.metrics if m != AVAILABILITY]
        if not s.metrics:
            continue
        body = []
        if phases:
            body.append('<div class="figure-title">recovery per phase (median over trials)</div>')
            body.append(_chart(t, s, phases, percent=False))
        if AVAILABILITY in s.metrics:
            body.append('<div class="figure-title">availability (median over trials)</div>')
            body.append(_chart(t, s, [AVAILABILITY], percent=True))
        for (metric, i), flag in s.flags.items():
            body.append(
                f'<p class="muted"><b style="color:#cf222e">regression</b> at {i + 1} '
                f"({_e(t.points[i].label)}), {_e(metric_label(metric))}: {_e(flag.reason)}</p>"
            )
        sections.append(
            f'<section class="scenario"><div class="scenario-head"><h2>{_e(s.scenario)}</h2>'
            f"</div>{''.join(body)}</section>"
        )
    rows = "".join(
        f"<tr><td>{i + 1}</td><td>{_e(p.label)}</td><td>{_e(p.path)}</td><td>{_e(p.date)}</td></tr>"
        for i, p in enumerate(t.points)
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>chaos trend</title><style>{css}</style></head><body><main>"
        f'<h1>chaos trend</h1><div class="meta">{_e(_title(t))}</div>'
        '<div class="summary"><table><thead><tr><th>#</th><th>journal</th><th>file</th>'
        f"<th>date</th></tr></thead><tbody>{rows}</tbody></table></div>"
        + "".join(sections)
        + "<footer>Generated by <code>chaos trend</code> from the journals above.</footer>"
        "</main></body></html>\n"
    )

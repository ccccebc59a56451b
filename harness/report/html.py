"""The HTML report: one self-contained file a person opens in any browser, offline.

Inline CSS and inline SVG only: no script, no font, no URL, so it can be attached to a CI
run and still read years later. Every recorded string is escaped. Trials that failed are
open; passing ones are folded (``<details>`` needs no JavaScript) except a scenario's first.
"""

from __future__ import annotations

from importlib.resources import files

from harness.report import escape
from harness.report.excerpt import (
    evidence_lines,
    figures,
    judged_phases,
    metric_values,
    ms,
    percent,
    recovery_records,
    segments,
    step_figures,
    steps_line,
)
from harness.report.svg import Axis, distribution_svg, latency_svg, timeline_svg
from harness.results.model import RunResult, ScenarioResult, TrialResult
from harness.spec.verdict import Verdict

HATCH = (
    '<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>'
    '<pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)"><rect width="6" height="6" fill="#ddf4ff"/>'
    '<line x1="0" y1="0" x2="0" y2="6" stroke="#0550ae" stroke-width="2.5"/></pattern>'
    "</defs></svg>"
)


def _e(text: object) -> str:
    return escape.html(text)


def _css() -> str:
    return files("harness.report").joinpath("report.css").read_text(encoding="utf-8")


def _badge(verdict: Verdict) -> str:
    return f'<span class="badge {verdict}">{verdict}</span>'


def _cards(run: RunResult) -> str:
    s = run.summary()
    cards = [
        ("scenarios", s["scenarios"], ""),
        ("trials", s["trials"], ""),
        ("passed", s["passed"], "pass"),
        ("failed", s["failed"], "fail"),
        ("errors", s["errors"], "error"),
        ("skipped", s["skipped"], "skip"),
    ]
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card {cls if value else ""}"><b>{value}</b>{label}</div>'
            for label, value, cls in cards
        )
        + "</div>"
    )


def _summary_table(run: RunResult) -> str:
    rows = []
    for s in run.scenarios:
        if s.skipped is not None:
            rows.append(
                f'<tr><td><a href="#{_e(s.name)}">{_e(s.name)}</a></td>'
                f"<td>{_badge(Verdict.SKIP)}</td>"
                f'<td colspan="5" class="muted">{_e(s.skipped)}</td></tr>'
            )
            continue
        f = figures(s)
        rows.append(
            f'<tr><td><a href="#{_e(s.name)}">{_e(s.name)}</a></td><td>{_badge(s.verdict)}</td>'
            f'<td class="num">{f.passed}/{f.total}</td><td class="num">{ms(f.recovery_p50)}</td>'
            f'<td class="num">{ms(f.recovery_p95)}</td><td class="num">{ms(f.recovery_max)}</td>'
            f'<td class="num">{percent(f.availability)}</td></tr>'
        )
    return (
        '<div class="summary"><table><thead><tr><th>scenario</th><th>verdict</th>'
        '<th class="num">passed</th><th class="num">recovery p50</th><th class="num">p95</th>'
        '<th class="num">max</th><th class="num">availability (worst)</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _invariants(trial: TrialResult) -> str:
    if not trial.invariants:
        return ""
    rows = []
    for inv in trial.invariants:
        evidence = ""
        if inv.verdict is not Verdict.PASS:
            lines = evidence_lines(trial, inv)
            if lines:
                evidence = f'<pre class="evidence">{_e(chr(10).join(lines))}</pre>'
        rows.append(
            f"<tr><td>{_e(inv.kind)}</td><td>{_badge(inv.verdict)}</td>"
            f"<td>{_e(inv.detail)}{evidence}</td><td>{_e(inv.expected or '')}</td>"
            f"<td>{_e(inv.observed or '')}</td></tr>"
        )
    return (
        '<table class="invariants"><thead><tr><th>invariant</th><th>verdict</th>'
        "<th>detail</th><th>expected</th><th>observed</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


LEGEND_TIMELINE = (
    '<div class="legend"><span><i style="background:#4e79a7"></i>process lifetime '
    '(colour: role)</span><span><i style="background:#ffb000;opacity:.35"></i>fault '
    'window</span><span><i style="background:#ddf4ff;border:1px solid #0550ae"></i>frozen '
    '(SIGSTOP)</span><span style="color:#d62728">✕ SIGKILL</span><span><i style='
    '"background:#4ac26b"></i>probe ok</span><span><i style="background:#cf222e"></i>probe '
    "failed</span></div>"
)


STEP_COLOURS = {
    "died": "#bbbbbb",
    "spawned": "#f28e2b",
    "listening": "#edc948",
    "ready": "#59a14f",
    "serving": "#4e79a7",
}


def _recovery_bars(trial: TrialResult) -> str:
    """One bar per fault, split into the steps of its recovery (time from the fault)."""
    records = recovery_records([trial])
    if not records:
        return ""
    bars = [(r, segments(r)) for r in records]
    scale = max([to for _, parts in bars for _, _, to in parts] + [1e-3])
    rows = []
    for record, parts in bars:
        cells = "".join(
            f'<span title="{_e(step)} at {_e(ms(to))}" style="display:inline-block;height:12px;'
            f"width:{max(0.3, (to - start) / scale * 100):.2f}%;background:{STEP_COLOURS[step]}"
            '"></span>'
            for step, start, to in parts
        )
        t = record.get("t")
        at = f"{t:.2f}s" if isinstance(t, int | float) else "?"
        what = (
            f"fault #{record.get('fault')} {record.get('kind')} at {at}, "
            f"{record.get('role')}: until {record.get('until')} "
            f"{'ok' if record.get('ok') else 'FAILED'}"
        )
        if record.get("replaced") is False:
            what += " (not replaced; the harness thawed it)"
        ends = " · ".join(f"{step} {ms(to)}" for step, _, to in parts) or "nothing reached"
        rows.append(
            f'<div style="margin:2px 0"><div class="muted">{_e(what)}: {_e(ends)}</div>'
            f'<div style="width:100%;background:#f6f8fa;white-space:nowrap;overflow:hidden">'
            f"{cells}</div></div>"
        )
    legend = "".join(
        f'<span><i style="background:{colour}"></i>{_e(step)}</span>'
        for step, colour in STEP_COLOURS.items()
    )
    return (
        f'<div class="figure-title">recovery per fault, by phase (0 to {_e(ms(scale))})</div>'
        + "".join(rows)
        + f'<div class="legend">{legend}</div>'
    )


def _trial(scenario: ScenarioResult, trial: TrialResult, open_: bool) -> str:
    end = max([trial.duration_s, *(e.t for e in trial.events)], default=1.0)
    axis = Axis(end=end)
    recovery = trial.metrics.get("recovery_s")
    facts = [f"{trial.duration_s:.1f}s", f"seed {trial.seed}"]
    if isinstance(recovery, list) and recovery:
        until = "/".join(judged_phases(trial))
        label = f"recovery ({until}) " if until else "recovery "
        facts.append(label + ", ".join(ms(v) for v in recovery))
    parts = [
        f'<details class="trial" id="{_e(scenario.name)}-trial-{trial.index}"'
        f"{' open' if open_ else ''}><summary>{_badge(trial.verdict)} <h3>trial "
        f'{trial.index + 1}</h3><span class="muted">{_e(" · ".join(facts))}</span></summary>'
    ]
    if trial.error:
        parts.append(f'<div class="error-box">{_e(trial.error)}</div>')
    parts.append(_invariants(trial))
    parts.append(_recovery_bars(trial))
    if trial.events:
        parts.append('<div class="figure-title">timeline</div>')
        parts.append(timeline_svg(trial.events, axis))
        parts.append(LEGEND_TIMELINE)
        latency = latency_svg(trial.events, axis)
        if latency:
            parts.append('<div class="figure-title">workload latency</div>' + latency)
            parts.append(
                '<div class="legend"><span style="color:#3b73b9">● ok</span>'
                '<span style="color:#d62728">✕ error</span><span><i style='
                '"background:#ffb000;opacity:.35"></i>fault window</span></div>'
            )
    if trial.output_tail:
        parts.append(
            '<div class="figure-title">output (tail)</div>'
            f'<pre class="evidence">{_e(chr(10).join(trial.output_tail))}</pre>'
        )
    parts.append("</details>")
    return "".join(parts)


def _scenario(s: ScenarioResult) -> str:
    tags = "".join(f'<span class="tag">{_e(t)}</span>' for t in s.tags)
    verdict = Verdict.SKIP if s.skipped is not None else s.verdict
    head = (
        f'<section class="scenario" id="{_e(s.name)}"><div class="scenario-head">'
        f"<h2>{_e(s.name)}</h2>{_badge(verdict)}{tags}"
        f'<span class="muted">{_e(s.file)}</span></div>'
    )
    body = [f'<p class="muted">{_e(s.description)}</p>' if s.description else ""]
    if s.skipped is not None:
        body.append(f"<p>Skipped: {_e(s.skipped)}</p>")
    values = [
        (v, t.verdict is Verdict.PASS) for t in s.trials for v in metric_values([t], "recovery_s")
    ]
    if values:
        f = figures(s)
        body.append(
            '<div class="figure-title">recovery time per fault, all trials</div>'
            f'<div class="dist">{distribution_svg(values)}<div class="muted">'
            f"n={f.recoveries} · median {ms(f.recovery_p50)} · p95 {ms(f.recovery_p95)} · "
            f'max {ms(f.recovery_max)}<br><span style="color:#d62728">●</span> from a failed '
            "trial</div></div>"
        )
    steps = step_figures(s.trials)
    if steps:
        body.append(f'<p class="muted">recovery p50 by phase: {_e(steps_line(steps))}</p>')
    for i, trial in enumerate(s.trials):
        body.append(_trial(s, trial, open_=i == 0 or trial.verdict is not Verdict.PASS))
    return head + "".join(body) + "</section>"


def to_html(run: RunResult) -> str:
    """The whole report as one HTML document."""
    argv = " ".join(run.argv)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>chaos report · {_e(run.started)}</title><style>{_css()}</style></head>"
        f"<body>{HATCH}<main><h1>chaos run report</h1>"
        f'<div class="meta">started {_e(run.started)} · finished {_e(run.finished or "-")} · '
        f"chaos {_e(run.harness_version)} · seed {_e(run.seed)}"
        f"{f' · <code>chaos {_e(argv)}</code>' if argv else ''}</div>"
        f"{_cards(run)}{_summary_table(run)}"
        + "".join(_scenario(s) for s in run.scenarios)
        + "<footer>Generated by chaos from the run's journal; re-render with "
        "<code>chaos report JOURNAL --html FILE</code>.</footer></main></body></html>\n"
    )

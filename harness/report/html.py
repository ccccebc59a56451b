"""The HTML report: one self-contained file a person opens in any browser, offline.

Inline CSS, inline SVG and one small inline script: no font, no URL, nothing loaded, so it
can be attached to a CI run and still read years later. Every recorded string is escaped.
Failures come first: failed scenarios before passing ones, a scenario's failed trials
before its passing ones, open, while passing trials are folded to one line (``<details>``
needs no JavaScript). "Only failures" / "all" is two radio buttons and CSS (no script);
the text search is the script, which the page works without. A role has one colour in
every trial (``colours``). Charts keep their size and scroll on a narrow screen, so their
labels stay readable at 800 px.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib.resources import files

from harness.observe.events import FaultAction, FaultPhase, Request
from harness.report import escape
from harness.report.colours import MEANINGS, run_role_colours
from harness.report.excerpt import (
    evidence_summary,
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
from harness.report.output import block_title, line_text, output_excerpt
from harness.report.svg import Axis, distribution_svg, latency_svg
from harness.report.timeline import LEGEND, Chart, draw_timeline
from harness.results.model import RunResult, ScenarioResult, TrialResult
from harness.spec.verdict import InvariantResult, Outcome, Verdict

HATCH = (
    '<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>'
    '<pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)"><rect width="6" height="6" fill="#ddf4ff"/>'
    '<line x1="0" y1="0" x2="0" y2="6" stroke="#0550ae" stroke-width="2.5"/></pattern>'
    "</defs></svg>"
)


def _e(text: object) -> str:
    return escape.html(text)


def stylesheet() -> str:
    """The report's CSS (``report.css``), inlined so that a report is one file."""
    return files("harness.report").joinpath("report.css").read_text(encoding="utf-8")


def _badge(verdict: Verdict | Outcome) -> str:
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
    cards += [
        (label, s[key], cls)
        for key, label, cls in (
            ("xfailed", "failed as expected", "skip"),
            ("xpassed", "passed unexpectedly", "fail"),
        )
        if s[key]
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
            f'<tr><td><a href="#{_e(s.name)}">{_e(s.name)}</a></td><td>{_badge(s.outcome)}</td>'
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


def _invariant_rows(trial: TrialResult, invariants: Sequence[InvariantResult]) -> str:
    rows = []
    for inv in invariants:
        evidence = ""
        if inv.verdict is not Verdict.PASS:
            lines = evidence_summary(trial, inv, limit=EVIDENCE_LINES)
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


def _invariants(trial: TrialResult) -> str:
    """The trial's invariants; in a failed trial the failed ones, with the ones that held
    folded below them (one line until opened)."""
    if not trial.invariants:
        return ""
    failed = [i for i in trial.invariants if i.verdict is not Verdict.PASS]
    held = [i for i in trial.invariants if i.verdict is Verdict.PASS]
    if not failed or not held:
        return _invariant_rows(trial, trial.invariants)
    kinds = ", ".join(dict.fromkeys(i.kind for i in held))
    return (
        _invariant_rows(trial, failed)
        + f'<details class="held"><summary class="muted">{len(held)} held: {_e(kinds)}'
        f"</summary>{_invariant_rows(trial, held)}</details>"
    )


OUTPUT_LINES = 12
"""Lines of a failed trial's output shown, after folding (the journal has them all)."""
EVIDENCE_LINES = 8
"""Events shown as a failed invariant's evidence (the timeline below shows the rest)."""

_SWATCH = {
    "fault": f'<i style="background:{MEANINGS["fault window"]};opacity:.35"></i>',
    "instant": f'<i class="dash" style="border-color:{MEANINGS["killed"]}"></i>',
    "frozen": f'<i style="background:#ddf4ff;border:1px solid {MEANINGS["frozen"]}"></i>',
    "signal": f'<b style="color:{MEANINGS["signal"]}">▼</b>',
    "exit-signal": f'<b style="color:{MEANINGS["killed"]}">✕</b>',
    "exit-ok": f'<i class="tick" style="background:{MEANINGS["signal"]}"></i>',
    "exit-code": f'<i class="tick" style="background:{MEANINGS["probe failed"]}"></i>',
    "exit-parent": f'<b style="color:{MEANINGS["signal"]}">○</b>',
    "ready": f'<b style="color:{MEANINGS["ready"]}">◆</b>',
    "not-ready": f'<b style="color:{MEANINGS["probe failed"]}">◆</b>',
    "probe-ok": f'<i style="background:{MEANINGS["probe ok"]}"></i>',
    "probe-fail": f'<i style="background:{MEANINGS["probe failed"]}"></i>',
    "request-ok": f'<b style="color:{MEANINGS["request ok"]}">●</b>',
    "request-error": f'<b style="color:{MEANINGS["killed"]}">✕</b>',
    "failed-trial": f'<b style="color:{MEANINGS["probe failed"]}">●</b>',
}


def legend(marks: Sequence[str], roles: Mapping[str, str] | None = None) -> str:
    """A legend of exactly the roles and marks a chart drew."""
    items = [
        f'<span class="role"><i style="background:{colour}"></i>{_e(role)}</span>'
        for role, colour in (roles or {}).items()
    ]
    items += [f"<span>{_SWATCH[key]}{_e(LEGEND[key])}</span>" for key in marks]
    return f'<div class="legend">{"".join(items)}</div>' if items else ""


def _latency_marks(trial: TrialResult) -> list[str]:
    requests = [e for e in trial.events if isinstance(e, Request)]
    faults = [e for e in trial.events if isinstance(e, FaultAction)]
    marks = []
    if any(r.ok for r in requests):
        marks.append("request-ok")
    if any(not r.ok for r in requests):
        marks.append("request-error")
    if any(f.phase is FaultPhase.START for f in faults):
        marks.append("fault")
    if any(f.phase is FaultPhase.INSTANT for f in faults):
        marks.append("instant")
    return marks


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


def _output(trial: TrialResult) -> str:
    blocks = output_excerpt(trial, OUTPUT_LINES)
    if not blocks:
        return ""
    parts = ['<div class="figure-title">output (stderr first, repeats folded)</div>']
    for block in blocks:
        text = "\n".join(line_text(line) for line in block.lines)
        parts.append(
            f'<div class="muted">{_e(block_title(block))}</div>'
            f'<pre class="evidence">{_e(text)}</pre>'
        )
    return "".join(parts)


def _trial(scenario: ScenarioResult, trial: TrialResult, colours: Mapping[str, str]) -> str:
    shown = scenario.outcome_of(trial)
    passed = trial.verdict is Verdict.PASS
    end = max([trial.duration_s, *(e.t for e in trial.events)], default=1.0)
    axis = Axis(end=end)
    recovery = trial.metrics.get("recovery_s")
    facts = [f"{trial.duration_s:.1f}s", f"seed {trial.seed}"]
    if isinstance(recovery, list) and recovery:
        until = "/".join(judged_phases(trial))
        label = f"recovery ({until}) " if until else "recovery "
        facts.append(label + ", ".join(ms(v) for v in recovery))
    if not passed:
        failed = [i.kind for i in trial.invariants if i.verdict is not Verdict.PASS]
        facts.append("failed: " + ", ".join(failed) if failed else str(trial.error or ""))
    if shown is Outcome.XFAIL:
        facts.append(f"expected to fail: {scenario.expected_failure}")
    elif shown is Outcome.XPASS:
        facts.append(f"passed, but expected to fail: {scenario.expected_failure}")
    opened = shown.bad
    css = "trial failing" if opened else "trial passing"
    parts = [
        f'<details class="{css}" id="{_e(scenario.name)}-trial-{trial.index}"'
        f"{' open' if opened else ''}><summary>{_badge(shown)} <h3>trial "
        f'{trial.index + 1}</h3><span class="muted">{_e(" · ".join(facts))}</span></summary>'
    ]
    if trial.error:
        parts.append(f'<div class="error-box">{_e(trial.error)}</div>')
    parts.append(_invariants(trial))
    parts.append(_recovery_bars(trial))
    if trial.events:
        chart: Chart = draw_timeline(trial.events, axis, colours)
        parts.append('<div class="figure-title">timeline</div>')
        parts.append(f'<div class="chart">{chart.svg}</div>')
        parts.append(legend(chart.marks, chart.roles))
        latency = latency_svg(trial.events, axis)
        if latency:
            parts.append('<div class="figure-title">workload latency</div>')
            parts.append(f'<div class="chart">{latency}</div>')
            parts.append(legend(_latency_marks(trial)))
    if not passed:
        parts.append(_output(trial))
    parts.append("</details>")
    return "".join(parts)


_SEVERITY = {
    Outcome.ERROR: 0,
    Outcome.FAIL: 1,
    Outcome.XPASS: 1,
    Outcome.PASS: 2,
    Outcome.XFAIL: 3,
    Outcome.SKIP: 4,
}


def failures_first(scenarios: Sequence[ScenarioResult]) -> list[ScenarioResult]:
    """Errors, then failures (unexpected passes too), then passes, then expected failures,
    then skips; the run's order within each."""
    return sorted(scenarios, key=lambda s: _SEVERITY[s.outcome])


def _scenario(s: ScenarioResult, colours: Mapping[str, str]) -> str:
    tags = "".join(f'<span class="tag">{_e(t)}</span>' for t in s.tags)
    verdict = s.outcome
    css = "scenario failing" if verdict.bad else "scenario passing"
    counts = ""
    if s.trials:
        bad = sum(t.verdict is not Verdict.PASS for t in s.trials)
        counts = f"{bad} of {len(s.trials)} trials failed" if bad else f"{len(s.trials)} passed"
        if s.expected_failure is not None:
            counts += f" · expected to fail: {s.expected_failure}"
    head = (
        f'<section class="{css}" id="{_e(s.name)}"><div class="scenario-head">'
        f"<h2>{_e(s.name)}</h2>{_badge(verdict)}{tags}"
        f'<span class="muted">{_e(counts)}</span><span class="muted">{_e(s.file)}</span></div>'
    )
    body = [f'<p class="muted">{_e(s.description)}</p>' if s.description else ""]
    if s.skipped is not None:
        body.append(f"<p>Skipped: {_e(s.skipped)}</p>")
    values = [
        (v, t.verdict is Verdict.PASS) for t in s.trials for v in metric_values([t], "recovery_s")
    ]
    if values:
        f = figures(s)
        failed_dot = legend(["failed-trial"]) if not all(ok for _, ok in values) else ""
        body.append(
            '<div class="figure-title">recovery time per fault, all trials</div>'
            f'<div class="dist">{distribution_svg(values)}<div class="muted">'
            f"n={f.recoveries} · median {ms(f.recovery_p50)} · p95 {ms(f.recovery_p95)} · "
            f"max {ms(f.recovery_max)}{failed_dot}</div></div>"
        )
    steps = step_figures(s.trials)
    if steps:
        body.append(f'<p class="muted">recovery p50 by phase: {_e(steps_line(steps))}</p>')
    trials = sorted(s.trials, key=lambda t: t.verdict is Verdict.PASS)
    body.extend(_trial(s, trial, colours) for trial in trials)
    return head + "".join(body) + "</section>"


_SCRIPT = """(function () {
  var box = document.getElementById("search"), said = document.getElementById("matches");
  var sections = [].slice.call(document.querySelectorAll("section.scenario"));
  function apply() {
    var q = box.value.trim().toLowerCase(), shown = 0, all = 0;
    sections.forEach(function (s) {
      var head = s.querySelector(".scenario-head").textContent.toLowerCase();
      var whole = !q || head.indexOf(q) >= 0, any = false;
      [].slice.call(s.querySelectorAll("details.trial")).forEach(function (t) {
        var hit = whole || t.textContent.toLowerCase().indexOf(q) >= 0;
        t.classList.toggle("unmatched", !hit);
        all += 1; shown += hit ? 1 : 0; any = any || hit;
      });
      s.classList.toggle("unmatched", !whole && !any);
    });
    said.textContent = q ? shown + " of " + all + " trials match" : "";
  }
  var asked = new URLSearchParams(window.location.search);
  if (asked.get("q")) { box.value = asked.get("q"); }
  if (asked.get("only") === "failures") { document.getElementById("show-failures").checked = true; }
  box.hidden = false;
  box.addEventListener("input", apply);
  apply();
})();"""
"""The search: hide the trials (and scenarios) whose text does not hold the query. It
reads ``?q=TEXT`` and ``?only=failures`` too, so a link can open the page filtered."""


def _controls(run: RunResult) -> str:
    s = run.summary()
    bad = s["failed"] + s["errors"] + s["xpassed"]
    return (
        '<div class="controls">show <label for="show-failures">only failures'
        f' ({bad})</label><label for="show-all">all ({s["trials"]})</label>'
        '<input type="search" id="search" placeholder="search trials: text, pid, role…" '
        'aria-label="search trials" hidden><span id="matches" class="muted"></span></div>'
    )


def to_html(run: RunResult) -> str:
    """The whole report as one HTML document."""
    argv = " ".join(run.argv)
    colours = run_role_colours(run)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>chaos report · {_e(run.started)}</title><style>{stylesheet()}</style></head>"
        f'<body>{HATCH}<input type="radio" name="show" id="show-all" class="show" checked>'
        '<input type="radio" name="show" id="show-failures" class="show">'
        "<main><h1>chaos run report</h1>"
        f'<div class="meta">started {_e(run.started)} · finished {_e(run.finished or "-")} · '
        f"chaos {_e(run.harness_version)} · seed {_e(run.seed)}"
        f"{f' · <code>chaos {_e(argv)}</code>' if argv else ''}</div>"
        f"{_cards(run)}{_summary_table(run)}{_controls(run)}"
        + "".join(_scenario(s, colours) for s in failures_first(run.scenarios))
        + "<footer>Generated by chaos from the run's journal; re-render with "
        "<code>chaos report JOURNAL --html FILE</code>.</footer></main>"
        f"<script>{_SCRIPT}</script></body></html>\n"
    )

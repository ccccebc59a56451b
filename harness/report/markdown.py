"""Markdown: the compact summary for ``$GITHUB_STEP_SUMMARY`` and pull-request comments.

GitHub renders it on the run's page, so it is a table plus one line per failing scenario,
nothing that needs the full timeline (that is what the HTML report is for). Thirty trials
that failed the same way are one line ("15 of 30 trials failed: recovers x15"), with the
first failure's expected/observed; each trial's own line is folded under it in a
``<details>`` block, which GitHub shows closed.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from harness.report import escape
from harness.report.excerpt import (
    BREAKDOWN,
    failed_invariants,
    failure_message,
    figures,
    ms,
    percent,
    step_figures,
)
from harness.results.model import RunResult, ScenarioResult, TrialResult
from harness.spec.verdict import Outcome, Verdict

ICON = {
    Outcome.PASS: "✅",
    Outcome.FAIL: "❌",
    Outcome.ERROR: "💥",
    Outcome.SKIP: "⏭️",
    Outcome.XFAIL: "⚠️",
    Outcome.XPASS: "❌",
}
STEP_SUMMARY = "GITHUB_STEP_SUMMARY"


def cell(text: str) -> str:
    """Outside text safe inside a Markdown table cell or line (``escape.markdown``)."""
    return escape.markdown(text)


def to_markdown(run: RunResult) -> str:
    """A heading with the totals, one row per scenario, then every failed trial."""
    s = run.summary()
    worst = (
        Outcome.ERROR
        if s["errors"]
        else Outcome.FAIL
        if s["failed"] or s["xpassed"]
        else Outcome.PASS
    )
    lines = [
        f"## {ICON[worst]} chaos: {s['passed']}/{s['trials']} trials passed"
        + (f", {s['failed']} failed" if s["failed"] else "")
        + (f", {s['errors']} errors" if s["errors"] else "")
        + (f", {s['skipped']} skipped" if s["skipped"] else "")
        + (f", {s['xfailed']} failed as expected" if s["xfailed"] else "")
        + (f", {s['xpassed']} passed unexpectedly" if s["xpassed"] else ""),
        "",
        "| scenario | verdict | trials | recovery p50 | p95 | max | availability (worst) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for scenario in run.scenarios:
        if scenario.skipped is not None:
            lines.append(
                f"| {cell(scenario.name)} | {ICON[Outcome.SKIP]} skip | "
                f"{cell(scenario.skipped)} | | | | |"
            )
            continue
        f = figures(scenario)
        lines.append(
            f"| {cell(scenario.name)} | {ICON[scenario.outcome]} {scenario.outcome} | "
            f"{f.passed}/{f.total} | {ms(f.recovery_p50)} | {ms(f.recovery_p95)} | "
            f"{ms(f.recovery_max)} | {percent(f.availability)} |"
        )
    lines += _phases(run)
    failing = [
        scenario
        for scenario in run.scenarios
        if any(scenario.outcome_of(t) in _SHOWN for t in scenario.trials)
    ]
    if failing:
        lines += ["", "### Failures", ""]
    for scenario in failing:
        lines += _failing_scenario(scenario)
    lines += _expected(run)
    return "\n".join(lines) + "\n"


_SHOWN = (Outcome.FAIL, Outcome.ERROR, Outcome.XPASS)
"""Trial outcomes listed under Failures (an expected failure is listed on its own)."""


def _expected(run: RunResult) -> list[str]:
    """Scenarios with ``expect: fail``: how many trials failed as expected, and why."""
    lines: list[str] = []
    for scenario in run.scenarios:
        if scenario.expected_failure is None or scenario.skipped is not None:
            continue
        xfailed = [t for t in scenario.trials if scenario.outcome_of(t) is Outcome.XFAIL]
        if xfailed:
            lines.append(
                f"- {ICON[Outcome.XFAIL]} **{cell(scenario.name)}**: {len(xfailed)} of"
                f" {len(scenario.trials)} trials failed as expected"
                f" ({cell(scenario.expected_failure)}); first, trial {xfailed[0].index + 1}:"
                f" {cell(failure_message(xfailed[0]))}"
            )
    return ["", "### Expected failures", "", *lines] if lines else []


def _reason(scenario: ScenarioResult, trial: TrialResult) -> str:
    """What failed in a trial, in a word or two: the failed invariants' kinds, else why."""
    if scenario.outcome_of(trial) is Outcome.XPASS:
        return "passed, but expected to fail"
    kinds = [i.kind for i in failed_invariants(trial)]
    if kinds:
        return ", ".join(dict.fromkeys(kinds))
    if trial.verdict is Verdict.ERROR:
        return "harness error"
    return "not ready" if (trial.error or "").startswith("not ready") else "failed"


def _message(scenario: ScenarioResult, trial: TrialResult) -> str:
    if scenario.outcome_of(trial) is Outcome.XPASS:
        return f"passed, but expected to fail: {scenario.expected_failure}"
    return failure_message(trial)


def _failing_scenario(scenario: ScenarioResult) -> list[str]:
    """One line for the scenario (how many trials failed and how, the first failure's
    message and expected/observed), then every failed trial folded in ``<details>``."""
    bad = [t for t in scenario.trials if scenario.outcome_of(t) in _SHOWN]
    reasons = Counter(_reason(scenario, t) for t in bad)
    how = ", ".join(f"{cell(r)} x{n}" if n > 1 else cell(r) for r, n in reasons.items())
    first = bad[0]
    line = (
        f"- {ICON[scenario.outcome]} **{cell(scenario.name)}**: {len(bad)} of"
        f" {len(scenario.trials)} trials failed ({how}); first, trial {first.index + 1}:"
        f" {cell(_message(scenario, first))}"
    )
    failed = failed_invariants(first)
    if failed and (failed[0].expected is not None or failed[0].observed is not None):
        line += (
            f"; expected {cell(failed[0].expected or '-')},"
            f" observed {cell(failed[0].observed or '-')}"
        )
    folded = [
        f"trial {t.index + 1} (seed {t.seed}): {cell(_message(scenario, t))}<br>" for t in bad
    ]
    return [
        line,
        "  <details><summary>the failed trials</summary>",
        "",
        *(f"  {entry}" for entry in folded),
        "",
        "  </details>",
    ]


def _phases(run: RunResult) -> list[str]:
    """Recovery broken into steps, p50 / p95 over every fault of a scenario."""
    rows = []
    for scenario in run.scenarios:
        steps = {f.step: f for f in step_figures(scenario.trials)}
        if not steps:
            continue
        cells = []
        for step in BREAKDOWN:
            f = steps.get(step)
            if f is None:
                cells.append("")
            elif f.p50 is None:
                cells.append("never")
            else:
                never = f" ({f.of - f.n} never)" if f.n < f.of else ""
                cells.append(f"{ms(f.p50)} / {ms(f.p95)}{never}")
        faults = max(f.of for f in steps.values())
        rows.append(f"| {cell(scenario.name)} | {faults} | " + " | ".join(cells) + " |")
    if not rows:
        return []
    return [
        "",
        "Recovery by phase, time from the fault (p50 / p95 over faults):",
        "",
        "| scenario | faults | " + " | ".join(BREAKDOWN) + " |",
        "|---|---:|" + "---:|" * len(BREAKDOWN),
        *rows,
    ]


def write_step_summary(run: RunResult) -> Path | None:
    """Append the summary to ``$GITHUB_STEP_SUMMARY`` when set (GitHub Actions)."""
    target = os.environ.get(STEP_SUMMARY)
    if not target:
        return None
    path = Path(target)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(to_markdown(run))
    return path

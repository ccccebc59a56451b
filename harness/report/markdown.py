"""Markdown: the compact summary for ``$GITHUB_STEP_SUMMARY`` and pull-request comments.

GitHub renders it on the run's page, so it is a table plus the list of failures, nothing
that needs the full timeline (that is what the HTML report is for).
"""

from __future__ import annotations

import os
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
from harness.results.model import RunResult
from harness.spec.verdict import Verdict

ICON = {Verdict.PASS: "✅", Verdict.FAIL: "❌", Verdict.ERROR: "💥", Verdict.SKIP: "⏭️"}
STEP_SUMMARY = "GITHUB_STEP_SUMMARY"


def cell(text: str) -> str:
    """Outside text safe inside a Markdown table cell or line (``escape.markdown``)."""
    return escape.markdown(text)


def to_markdown(run: RunResult) -> str:
    """A heading with the totals, one row per scenario, then every failed trial."""
    s = run.summary()
    worst = Verdict.ERROR if s["errors"] else Verdict.FAIL if s["failed"] else Verdict.PASS
    lines = [
        f"## {ICON[worst]} chaos: {s['passed']}/{s['trials']} trials passed"
        + (f", {s['failed']} failed" if s["failed"] else "")
        + (f", {s['errors']} errors" if s["errors"] else "")
        + (f", {s['skipped']} skipped" if s["skipped"] else ""),
        "",
        "| scenario | verdict | trials | recovery p50 | p95 | max | availability (worst) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for scenario in run.scenarios:
        if scenario.skipped is not None:
            lines.append(
                f"| {cell(scenario.name)} | {ICON[Verdict.SKIP]} skip | "
                f"{cell(scenario.skipped)} | | | | |"
            )
            continue
        f = figures(scenario)
        lines.append(
            f"| {cell(scenario.name)} | {ICON[scenario.verdict]} {scenario.verdict} | "
            f"{f.passed}/{f.total} | {ms(f.recovery_p50)} | {ms(f.recovery_p95)} | "
            f"{ms(f.recovery_max)} | {percent(f.availability)} |"
        )
    lines += _phases(run)
    failures = [
        (scenario, trial)
        for scenario in run.scenarios
        for trial in scenario.trials
        if trial.verdict in (Verdict.FAIL, Verdict.ERROR)
    ]
    if failures:
        lines += ["", "### Failures", ""]
    for scenario, trial in failures:
        lines.append(
            f"- **{cell(scenario.name)}** trial {trial.index + 1} "
            f"(seed {trial.seed}): {cell(failure_message(trial))}"
        )
        for inv in failed_invariants(trial):
            if inv.expected is not None or inv.observed is not None:
                lines.append(
                    f"  - `{inv.kind}` expected {cell(inv.expected or '-')}, "
                    f"observed {cell(inv.observed or '-')}"
                )
    return "\n".join(lines) + "\n"


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

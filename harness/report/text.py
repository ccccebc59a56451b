"""One trial as plain text: what a pytest failure shows instead of a harness traceback.

A failed scenario item must say what broke in the system, not where the harness raised:
each failed invariant with expected vs observed and the timeline events around its
evidence (the same excerpt the console and HTML reports show), and for a trial that never
got judged (not ready, could not start, harness error) the system's last output lines.
"""

from __future__ import annotations

from harness.report import escape
from harness.report.excerpt import evidence_lines, expected_observed, failed_invariants
from harness.results.model import TrialResult

OUTPUT_TAIL = 20
"""Lines of the system's output shown for a trial that was never judged."""


def describe_trial(scenario_name: str, result: TrialResult) -> str:
    """Why ``result`` did not pass, as indented plain text (no colour, no markup, control
    characters of the system's or the author's text made visible: ``escape.visible``)."""
    seed = f"  seed={result.seed}" if result.seed is not None else ""
    lines = [
        f"{scenario_name} trial {result.index + 1}: {str(result.verdict).upper()}"
        f" after {result.duration_s:.1f}s{seed}"
    ]
    if result.vars:
        lines.append("  vars: " + ", ".join(f"{k}={v!r}" for k, v in result.vars.items()))
    if result.error:
        lines.append(f"  {result.error}")
    for inv in failed_invariants(result):
        lines.append(f"  ✗ {inv.kind} ({inv.verdict}): {inv.detail}")
        lines.extend(f"      {label}: {value}" for label, value in expected_observed(inv))
        around = evidence_lines(result, inv)
        if around:
            lines.append("      timeline around the evidence:")
            lines.extend("        " + line for line in around)
    if not result.invariants and result.output_tail:
        tail = result.output_tail[-OUTPUT_TAIL:]
        lines.append(f"  system output (last {len(tail)} lines):")
        lines.extend("    | " + escape.without_ansi(line) for line in tail)
    return "\n".join(escape.visible(line) for line in lines)

"""JUnit XML: one ``testcase`` per trial, so CI UIs list every trial and its failure.

Layout (the Jenkins/Ant dialect every CI viewer reads): ``testsuites`` > one ``testsuite``
per scenario > one ``testcase`` per trial named ``scenario[trial-i]``. A failed invariant is
a ``failure`` (message: its detail; text: every failed invariant with the events around
it), a harness problem an ``error``, a skipped scenario one ``skipped`` case. The trial's
metrics and output tail go to ``system-out``.

Expected failures are written as pytest's junitxml writes them, which CI viewers already
show: a trial of an ``expect: fail`` scenario that failed is ``skipped`` with
``type="chaos.xfail"`` and the reason as its message (the failure's detail in its text);
one that passed is a ``failure`` with ``type="chaos.xpass"`` and the message
``[XPASS(strict)] REASON``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import PurePath

from harness.report import escape
from harness.report.excerpt import (
    evidence_lines,
    expected_observed,
    failed_invariants,
    failure_message,
)
from harness.results.model import RunResult, ScenarioResult, TrialResult
from harness.spec.verdict import Outcome, Verdict


def clean(text: str) -> str:
    """Text XML 1.0 can carry (``escape.xml``)."""
    return escape.xml(text)


def _seconds(value: float) -> str:
    return f"{value:.3f}"


def _failure_text(trial: TrialResult) -> str:
    lines: list[str] = []
    if trial.error:
        lines.append(trial.error)
    for inv in failed_invariants(trial):
        lines.append(f"{inv.kind} ({inv.verdict}): {inv.detail}")
        lines.extend(f"  {label}: {value}" for label, value in expected_observed(inv))
        lines.extend("    " + line for line in evidence_lines(trial, inv))
    return "\n".join(lines)


def _system_out(trial: TrialResult) -> str:
    lines = [f"seed: {trial.seed}", f"duration: {trial.duration_s:.3f}s"]
    lines.extend(f"{key}: {value}" for key, value in sorted(trial.metrics.items()))
    lines.extend(f"{inv.kind}: {inv.verdict}: {inv.detail}" for inv in trial.invariants)
    if trial.output_tail:
        lines.append("--- output (tail) ---")
        lines.extend(trial.output_tail)
    return "\n".join(lines)


def _classname(scenario: ScenarioResult) -> str:
    stem = PurePath(scenario.file).stem if scenario.file else ""
    return clean(f"chaos.{stem or scenario.name}")


def _testcase(suite: ET.Element, scenario: ScenarioResult, trial: TrialResult) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        classname=_classname(scenario),
        name=clean(f"{scenario.name}[trial-{trial.index}]"),
        time=_seconds(trial.duration_s),
    )
    shown = scenario.outcome_of(trial)
    if shown is Outcome.XFAIL:
        node = ET.SubElement(
            case,
            "skipped",
            message=clean(f"expected failure: {scenario.expected_failure}"),
            type="chaos.xfail",
        )
        node.text = clean(_failure_text(trial))
    elif shown is Outcome.XPASS:
        ET.SubElement(
            case,
            "failure",
            message=clean(f"[XPASS(strict)] {scenario.expected_failure}"),
            type="chaos.xpass",
        ).text = clean("every invariant held, but the scenario is expected to fail")
    elif trial.verdict is Verdict.FAIL:
        failed = failed_invariants(trial)
        node = ET.SubElement(
            case,
            "failure",
            message=clean(failure_message(trial)),
            type=failed[0].kind if failed else "not-ready",
        )
        node.text = clean(_failure_text(trial))
    elif trial.verdict is Verdict.ERROR:
        node = ET.SubElement(
            case, "error", message=clean(failure_message(trial)), type="harness-error"
        )
        node.text = clean(_failure_text(trial))
    elif trial.verdict is Verdict.SKIP:
        ET.SubElement(case, "skipped", message=clean(trial.error or "skipped"))
    ET.SubElement(case, "system-out").text = clean(_system_out(trial))


def _suite(root: ET.Element, scenario: ScenarioResult, timestamp: str) -> dict[str, int]:
    trials = scenario.trials
    shown = [scenario.outcome_of(t) for t in trials]
    counts = {
        "tests": len(trials) if scenario.skipped is None else 1,
        "failures": shown.count(Outcome.FAIL) + shown.count(Outcome.XPASS),
        "errors": shown.count(Outcome.ERROR),
        "skipped": 1
        if scenario.skipped is not None
        else shown.count(Outcome.SKIP) + shown.count(Outcome.XFAIL),
    }
    time = sum(t.duration_s for t in trials)
    attributes = {"name": clean(scenario.name), "timestamp": timestamp[:19], "time": _seconds(time)}
    attributes.update({k: str(v) for k, v in counts.items()})
    suite = ET.SubElement(root, "testsuite", attributes)
    properties = ET.SubElement(suite, "properties")
    props = {"file": scenario.file, "tags": ",".join(scenario.tags)}
    for name, value in props.items():
        ET.SubElement(properties, "property", name=name, value=clean(value))
    if scenario.skipped is not None:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=_classname(scenario),
            name=clean(scenario.name),
            time="0.000",
        )
        ET.SubElement(case, "skipped", message=clean(scenario.skipped))
    for trial in trials:
        _testcase(suite, scenario, trial)
    counts["time_ms"] = round(time * 1000)
    return counts


def to_junit(run: RunResult) -> str:
    """The run as a JUnit XML document (UTF-8, with declaration)."""
    root = ET.Element("testsuites", name="chaos")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "time_ms": 0}
    for scenario in run.scenarios:
        for key, value in _suite(root, scenario, run.started).items():
            totals[key] += value
    root.set("tests", str(totals["tests"]))
    root.set("failures", str(totals["failures"]))
    root.set("errors", str(totals["errors"]))
    root.set("skipped", str(totals["skipped"]))
    root.set("time", _seconds(totals["time_ms"] / 1000))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

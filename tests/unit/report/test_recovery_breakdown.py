"""Every reporter shows a fault's recovery broken into phases, from ``metrics.recoveries``."""

from __future__ import annotations

import io
import json
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from rich.console import Console

from harness.report.console import RunProgress, render_summary
from harness.report.excerpt import segments, step_figures, steps_line
from harness.report.html import to_html
from harness.report.markdown import to_markdown
from harness.results import journal
from harness.results.model import RunResult, ScenarioResult, TrialResult
from harness.spec.verdict import Verdict


def _record(fault: int, **steps: float | None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "role": "backend",
        "fault": fault,
        "kind": "kill",
        "effect": "ends",
        "instance": 0,
        "t": 1.0 + fault,
        "pids": [101 + fault],
        "until": "ready",
        "ok": True,
        "phases": ["spawned", "listening", "ready", "serving"],
        "died_s": 0.002,
        "spawned_s": 0.008,
        "listening_s": 0.2,
        "ready_s": 0.04,
        "serving_s": 0.042,
        "last_failed_s": None,
    }
    record.update({f"{k}_s": v for k, v in steps.items()})
    return record


def _run(*records: dict[str, Any]) -> RunResult:
    trial = TrialResult(
        index=0,
        verdict=Verdict.PASS,
        duration_s=4.0,
        metrics={"recovery_s": [r["ready_s"] for r in records], "recoveries": list(records)},
    )
    return RunResult(
        started="2025-01-01T00:00:00+00:00",
        scenarios=[ScenarioResult(name="backend-sigkill", file="s.yaml", trials=[trial])],
    )


def test_a_bar_is_each_phase_reached_in_time_order_from_the_previous_one() -> None:
    assert segments(_record(0)) == [
        ("died", 0.0, 0.002),
        ("spawned", 0.002, 0.008),
        ("ready", 0.008, 0.04),
        ("serving", 0.04, 0.042),
        ("listening", 0.042, 0.2),
    ]
    assert segments(_record(0, ready=None, serving=None, listening=None)) == [
        ("died", 0.0, 0.002),
        ("spawned", 0.002, 0.008),
    ]


def test_step_figures_count_the_faults_that_never_reached_a_phase() -> None:
    run = _run(_record(0), _record(1, ready=None))
    figures = {f.step: f for f in step_figures(run.scenarios[0].trials)}
    assert (figures["ready"].n, figures["ready"].of) == (1, 2)
    assert figures["spawned"].p50 == 0.008
    line = steps_line(list(figures.values()))
    assert line.startswith("died 2 ms · spawned 8 ms · listening 200 ms · ready 40 ms (1 of 2")


def test_the_console_names_the_judged_phase_and_prints_the_breakdown() -> None:
    out = io.StringIO()
    console = Console(file=out, width=160, force_terminal=False, color_system=None)
    run = _run(_record(0), _record(1))
    render_summary(run, console)
    assert (
        "backend-sigkill recovery p50: died 2 ms · spawned 8 ms · listening 200 ms · ready 40 ms"
        " · serving 42 ms" in out.getvalue()
    )
    with RunProgress(console) as progress:
        progress.trial_started("backend-sigkill", 0, 1)
        progress.trial_finished("backend-sigkill", run.scenarios[0].trials[0])
    assert "recovery (ready) 40 ms, 40 ms" in out.getvalue()


def test_markdown_has_a_phase_table() -> None:
    md = to_markdown(_run(_record(0), _record(1, listening=None)))
    assert "| scenario | faults | died | spawned | listening | ready | serving |" in md
    assert "| backend-sigkill | 2 | 2 ms / 2 ms | 8 ms / 8 ms | 200 ms / 200 ms (1 never) |" in md


def test_html_draws_a_bar_per_fault_and_says_when_the_harness_thawed_it() -> None:
    frozen = _record(1, died=None, spawned=None, ready=None, serving=None, listening=None)
    frozen.update({"kind": "freeze", "effect": "stops", "ok": False, "replaced": False})
    frozen["thawed_s"] = 3.0
    html = to_html(_run(_record(0), frozen))
    assert "recovery per fault, by phase" in html
    assert "fault #0 kill at 1.00s, backend: until ready ok" in html
    assert 'title="ready at 40 ms"' in html
    assert "fault #1 freeze at 2.00s, backend: until ready FAILED (not replaced" in html
    assert "nothing reached" in html


def test_journals_with_and_without_recovery_phases_validate(tmp_path: Path) -> None:
    schema = json.loads(
        files("harness.results").joinpath("journal.schema.json").read_text(encoding="utf-8")
    )
    validator = jsonschema.Draft202012Validator(schema)
    new = _run(_record(0))
    old = _run(_record(0))
    old.scenarios[0].trials[0].metrics = {"recovery_s": [0.04]}  # before recovery phases
    for run in (new, old):
        path = tmp_path / "journal.json"
        journal.write(run, path)
        validator.validate(json.loads(path.read_text(encoding="utf-8")))
        assert (
            journal.read(path).scenarios[0].trials[0].metrics == run.scenarios[0].trials[0].metrics
        )
    broken = journal.run_to_dict(new)
    broken["scenarios"][0]["trials"][0]["metrics"]["recoveries"][0]["until"] = "forked"
    with pytest.raises(jsonschema.ValidationError, match="forked"):
        validator.validate(broken)

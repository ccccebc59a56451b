"""The Markdown summary, and the GitHub step summary it is appended to."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.report.markdown import to_markdown, write_step_summary

from .fixtures import backend_kill_trial, realistic_run


def test_heading_table_and_failures() -> None:
    md = to_markdown(realistic_run())
    lines = md.splitlines()
    assert lines[0] == "## 💥 chaos: 2/5 trials passed, 2 failed, 1 errors, 1 skipped"
    assert "| backend-sigkill | ❌ fail | 2/3 | 520 ms | 1492 ms | 1600 ms | 71.79% |" in lines
    assert any(line.startswith("| needs-docker | ⏭️ skip |") for line in lines)
    assert "### Failures" in lines
    assert (
        "- ❌ **backend-sigkill**: 1 of 3 trials failed (recovers); first, trial 3: recovers:"
        " backend was not back within 1s after the kill at t=2.000: it took 1.600s; expected"
        " role backend back to 1 live process within 1s, observed back after 1.600s" in lines
    )


def test_one_line_per_failing_scenario_with_its_trials_folded() -> None:
    run = realistic_run()
    kill = run.scenarios[0]
    kill.trials = [backend_kill_trial(i, 1.6 if i % 2 else 0.5) for i in range(30)]
    md = to_markdown(run)
    failures = md[md.index("### Failures") :].splitlines()
    bullets = [line for line in failures if line.startswith("- ")]
    assert len(bullets) == 2, "one line per failing scenario"
    assert bullets[0].startswith(
        "- ❌ **backend-sigkill**: 15 of 30 trials failed (recovers x15); first, trial 2:"
    )
    assert bullets[1].startswith(
        "- 💥 **port-squatted**: 2 of 2 trials failed (not ready, harness error)"
    )
    start = failures.index("  <details><summary>the failed trials</summary>")
    end = failures.index("  </details>", start)
    folded = [line for line in failures[start:end] if line.startswith("  trial ")]
    assert len(folded) == 15
    assert folded[0].startswith("  trial 2 (seed 1235): recovers: backend was not back")


def test_pipes_in_names_do_not_break_the_table() -> None:
    run = realistic_run()
    run.scenarios[0].name = "a|b"
    assert "| a\\|b |" in to_markdown(run)


def test_step_summary_is_appended_when_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "summary.md"
    target.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(target))
    assert write_step_summary(realistic_run()) == target
    text = target.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n## ")


def test_no_step_summary_outside_github(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    assert write_step_summary(realistic_run()) is None

"""The Markdown summary, and the GitHub step summary it is appended to."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.report.markdown import to_markdown, write_step_summary

from .fixtures import realistic_run


def test_heading_table_and_failures() -> None:
    md = to_markdown(realistic_run())
    lines = md.splitlines()
    assert lines[0] == "## 💥 chaos: 2/5 trials passed, 2 failed, 1 errors, 1 skipped"
    assert "| backend-sigkill | ❌ fail | 2/3 | 520 ms | 1492 ms | 1600 ms | 71.79% |" in lines
    assert any(line.startswith("| needs-docker | ⏭️ skip |") for line in lines)
    assert "### Failures" in lines
    assert any("**backend-sigkill** trial 3" in line and "recovers:" in line for line in lines)
    assert (
        "  - `recovers` expected role backend back to 1 live process within 1s, "
        "observed back after 1.600s" in lines
    )


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

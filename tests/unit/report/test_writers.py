"""Writing every report at once, and re-judging a journal's recorded timelines."""

from __future__ import annotations

import json
import os
import stat
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, cast

import pytest

from harness.observe.events import Event, ProcessExit
from harness.report.junit import to_junit
from harness.report.registry import default_targets
from harness.report.writers import ReportsNotWritten, rejudge, write_reports
from harness.results import journal
from harness.spec.verdict import InvariantResult, Verdict

from .fixtures import realistic_run

if TYPE_CHECKING:
    from harness.scenario.model import Scenario


def test_writes_all_four_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    paths = default_targets(tmp_path / "out")

    written = write_reports(realistic_run(), paths)

    assert written == list(paths.values())
    assert journal.read(paths["journal"]).summary()["trials"] == 5
    assert len(ET.parse(paths["junit"]).getroot().findall(".//testcase")) == 6
    assert "<svg" in paths["html"].read_text(encoding="utf-8")
    assert paths["markdown"].read_text(encoding="utf-8").startswith("## ")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        p.name for p in paths.values()
    ), "no temp file is left beside the reports"


def test_writes_only_the_reports_asked_for_in_that_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    run = realistic_run()
    targets = {"markdown": tmp_path / "a" / "s.md", "junit": tmp_path / "b" / "j.xml"}

    written = write_reports(run, targets)

    assert written == [tmp_path / "a" / "s.md", tmp_path / "b" / "j.xml"]
    assert (tmp_path / "b" / "j.xml").read_text(encoding="utf-8") == to_junit(run)
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["j.xml", "s.md"]


def test_an_unknown_reporter_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    targets = {"junit": tmp_path / "j.xml", "pdf": tmp_path / "r.pdf"}

    with pytest.raises(KeyError, match="unknown reporter 'pdf'; known: html, journal"):
        write_reports(realistic_run(), targets)
    assert list(tmp_path.iterdir()) == []


def test_a_report_is_replaced_whole_never_rewritten_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader that opened the old file (a browser, an upload step) keeps reading the old
    file whole: the new one is a new file renamed over it."""
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    path = tmp_path / "report.html"
    path.write_text("old report", encoding="utf-8")
    with path.open(encoding="utf-8") as reader:
        write_reports(realistic_run(), {"html": path})

        assert reader.read() == "old report"
    assert "<svg" in path.read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_also_appends_the_github_step_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "step.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    written = write_reports(realistic_run(), {"markdown": tmp_path / "s.md"})
    assert written == [tmp_path / "s.md", summary]
    assert summary.read_text(encoding="utf-8") == (tmp_path / "s.md").read_text(encoding="utf-8")


def test_a_report_that_cannot_be_written_does_not_stop_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    blocked = tmp_path / "a-file" / "report.html"
    targets = {"html": blocked, "junit": tmp_path / "j.xml", "markdown": tmp_path / "s.md"}

    with pytest.raises(ReportsNotWritten) as caught:
        write_reports(realistic_run(), targets)

    assert caught.value.written == [tmp_path / "j.xml", tmp_path / "s.md"]
    [failure] = caught.value.failures
    assert failure.path == blocked
    assert str(failure) == f"{blocked}: File exists ({tmp_path / 'a-file'})"
    assert str(blocked) in str(caught.value)


def test_an_older_file_that_cannot_be_removed_is_called_stale(tmp_path: Path) -> None:
    """What stands at the path and cannot be replaced must not pass for this run's."""
    standing = tmp_path / "journal.json"
    standing.mkdir()

    with pytest.raises(ReportsNotWritten) as caught:
        write_reports(realistic_run(), {"journal": standing})

    [failure] = caught.value.failures
    assert failure.stale
    assert str(failure) == (
        f"{standing}: Is a directory (an older file there could not be removed: it is not"
        " this run's)"
    )


def _strict_judge(scenario: Scenario, events: Sequence[Event]) -> list[InvariantResult]:
    """Fails any trial whose backend was SIGKILLed, from the recorded events only."""
    killed = [e.t for e in events if isinstance(e, ProcessExit) and e.signal == "SIGKILL"]
    return [
        InvariantResult(
            kind="never-killed",
            verdict=Verdict.FAIL if killed else Verdict.PASS,
            detail=f"{len(killed)} SIGKILL exit(s)",
            metrics={"recovery_s": [9.0]},
            evidence=killed,
        )
    ]


def test_rejudge_replaces_verdicts_from_the_recorded_timeline(tmp_path: Path) -> None:
    path = tmp_path / "journal.json"
    journal.write(realistic_run(), path)
    run = journal.read(path)
    scenario = cast("Scenario", SimpleNamespace(name="backend-sigkill", expected_failure=None))
    again = rejudge(run, [scenario], judge=_strict_judge)
    trials = again.scenarios[0].trials
    assert [t.verdict for t in trials] == [Verdict.FAIL] * 3
    assert trials[0].invariants[0].kind == "never-killed"
    assert trials[0].metrics == {"recovery_s": [9.0]}
    assert trials[0].events == run.scenarios[0].trials[0].events
    # scenarios not given, and the not-ready / error trials, are left as they were
    assert again.scenarios[1] == run.scenarios[1]
    # the journal read is not modified
    assert run.scenarios[0].trials[0].verdict is Verdict.PASS
    assert json.loads(path.read_text())["summary"]["passed"] == 2


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_reports_and_the_journal_get_the_mode_the_umask_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mask: int, mode: int
) -> None:
    """mkstemp makes its temp file 0600; a CI box serving the reports must read them."""
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    previous = os.umask(mask)
    try:
        paths = default_targets(tmp_path / "out")
        write_reports(realistic_run(), paths)
        journal.write(realistic_run(), tmp_path / "again" / "journal.json")
    finally:
        os.umask(previous)
    written = [*paths.values(), tmp_path / "again" / "journal.json"]
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in written} == {
        p.name: mode for p in written
    }

"""Reports from ``chaos run`` and ``chaos report``: all four written, each valid for its reader.

One run of the tiny supervisor (two trials) feeds most tests here: bare report flags land
in ``--out``; JUnit has one case per trial; the HTML is self-contained with SVG timelines;
the journal matches its JSON schema; ``chaos report`` re-renders it (only the reports asked
for) and, given a stricter scenario, re-judges it to a failure without re-running anything.
A second run gives its report flags files; a flag whose FILE is a folder (the paths to run,
taken by mistake) is a one-line usage error before anything starts.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest
from e2e_support import ROOT, Chaos, CliResult, read_journal, supervisor_scenario
from junitparser import JUnitXml

from harness.report.registry import reporters

pytestmark = pytest.mark.e2e

REPORTS = ("journal.json", "junit.xml", "report.html", "summary.md")
SCHEMA = ROOT / "harness" / "results" / "journal.schema.json"


@dataclass(frozen=True)
class Reported:
    result: CliResult
    out: Path
    scenario: Path
    runner: Chaos


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reported]:
    runner = Chaos(home=tmp_path_factory.mktemp("reports"))
    runner.tmpdir.mkdir()
    scenario = runner.scenario("restart.yaml", supervisor_scenario("tiny-reports", duration="2s"))
    out = runner.home / "out"
    try:
        result = runner.run(
            "run", scenario, "--repeat", "2", "--json", "--junit", "--html", "--md", "--out", out
        )
        assert runner.problems() == []
        yield Reported(result, out, scenario, runner)
    finally:
        runner.cleanup()


def test_bare_report_flags_write_all_four_into_out(reported: Reported) -> None:
    assert reported.result.returncode == 0, reported.result
    for name in REPORTS:
        assert (reported.out / name).stat().st_size > 0, name
    assert not (reported.runner.home / "reports").exists(), "--out is honoured"


def test_junit_has_one_case_per_trial(reported: Reported) -> None:
    xml = JUnitXml.fromfile(str(reported.out / "junit.xml"))
    cases = [case for suite in xml for case in suite]

    assert len(cases) == 2
    assert all(case.is_passed for case in cases)
    assert all("tiny-reports" in (case.classname or "") + case.name for case in cases)


def test_html_is_self_contained_with_svg_timelines(reported: Reported) -> None:
    html = (reported.out / "report.html").read_text(encoding="utf-8")

    assert "<svg" in html
    assert "tiny-reports" in html
    remote = re.findall(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//[^"'\s>]*""", html, re.I)
    assert remote == [], "the report must open offline"
    assert not re.search(r"""url\(\s*["']?(?:https?:)?//|@import""", html, re.I)


def test_markdown_summary_names_the_scenario(reported: Reported) -> None:
    text = (reported.out / "summary.md").read_text(encoding="utf-8")
    assert "tiny-reports" in text


def test_journal_matches_its_schema(reported: Reported) -> None:
    journal = read_journal(reported.out / "journal.json")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))

    jsonschema.validate(journal, schema)
    (scenario,) = journal["scenarios"]
    assert [t["index"] for t in scenario["trials"]] == [0, 1]
    assert journal["summary"]["trials"] == 2


def test_report_rerenders_a_journal(reported: Reported, tmp_path: Path) -> None:
    files = {flag: tmp_path / name for flag, name in (("--html", "r.html"), ("--md", "r.md"))}
    files["--junit"] = tmp_path / "r.xml"
    args = [arg for flag, path in files.items() for arg in (flag, str(path))]

    result = reported.runner.run("report", reported.out / "journal.json", *args)

    assert result.returncode == 0, result
    lines = result.stdout.splitlines()
    assert lines[0].startswith("PASS tiny-reports trial 1/2"), result
    assert lines[1].startswith("PASS tiny-reports trial 2/2"), result
    assert f"chaos report {reported.out / 'journal.json'}" in result.stdout, result
    assert "chaos run" not in result.stdout, result
    for path in files.values():
        assert path.stat().st_size > 0, path
    assert "<svg" in files["--html"].read_text(encoding="utf-8")
    assert len([c for s in JUnitXml.fromfile(str(files["--junit"])) for c in s]) == 2


def test_report_with_a_stricter_scenario_rejudges_to_failure(
    reported: Reported, tmp_path: Path
) -> None:
    journal = read_journal(reported.out / "journal.json")
    seen = [r for t in journal["scenarios"][0]["trials"] for r in t["metrics"]["recovery_s"]]
    stricter_ms = min(seen) * 1000 / 2  # half the fastest recovery recorded: every trial fails
    text = reported.scenario.read_text(encoding="utf-8")
    stricter = tmp_path / "stricter.yaml"
    stricter.write_text(
        text.replace("within: 1s", f"within: {stricter_ms:.4f}ms"), encoding="utf-8"
    )
    assert stricter.read_text(encoding="utf-8") != text
    junit = tmp_path / "rejudged.xml"

    result = reported.runner.run(
        "report", reported.out / "journal.json", "--scenario", stricter, "--junit", junit
    )

    assert result.returncode == 1, result
    assert "recovers" in result.stdout, result
    cases = [c for s in JUnitXml.fromfile(str(junit)) for c in s]
    assert len(cases) == 2
    assert not any(c.is_passed for c in cases)
    assert read_journal(reported.out / "journal.json") == journal, "the journal is untouched"


def test_report_writes_bare_flags_into_out_and_nothing_else(
    reported: Reported, tmp_path: Path
) -> None:
    out = tmp_path / "again"

    # bare before another option, and bare as the last word
    result = reported.runner.run(
        "report", reported.out / "journal.json", "--html", "--out", out, "--md"
    )

    assert result.returncode == 0, result
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "summary.md"]
    assert "tiny-reports" in (out / "summary.md").read_text(encoding="utf-8")


def test_report_json_file_is_the_same_journal(reported: Reported, tmp_path: Path) -> None:
    copy = tmp_path / "copy.json"

    result = reported.runner.run("report", reported.out / "journal.json", "--json", copy)

    assert result.returncode == 0, result
    assert read_journal(copy) == read_journal(reported.out / "journal.json")


def test_report_never_overwrites_the_journal_it_reads(reported: Reported) -> None:
    journal = reported.out / "journal.json"
    before = journal.read_bytes()

    result = reported.runner.run("report", journal, "--json")  # bare: journal.json beside it

    assert result.returncode == 2, result
    assert f"--json would overwrite {journal}, the journal being read" in result.stderr, result
    assert journal.read_bytes() == before


def test_run_and_report_offer_one_flag_per_reporter(chaos: Chaos) -> None:
    for command in ("run", "report"):
        result = chaos.run(command, "--help")

        assert result.returncode == 0, result
        for reporter in reporters():
            assert f"{reporter.flag} " in result.stdout, (reporter.name, result)
            assert f"bare: {reporter.filename} in --out" in result.stdout, (reporter.name, result)


def test_report_flags_with_a_file_go_there_and_the_rest_to_out(chaos: Chaos) -> None:
    scenario = chaos.scenario("s/once.yaml", supervisor_scenario("tiny-files", duration="1s"))
    out = chaos.home / "out"

    result = chaos.run(
        "run", "--json", "j/run.json", "--junit=j/run.xml", scenario, "--out", out, "-q"
    )

    assert result.returncode == 0, result
    assert result.stdout.splitlines() == ["1 trial(s) in 1 scenario(s): 1 passed"], result
    assert read_journal(chaos.home / "j" / "run.json")["summary"]["trials"] == 1
    cases = [c for s in JUnitXml.fromfile(str(chaos.home / "j" / "run.xml")) for c in s]
    assert [c.name for c in cases] == ["tiny-files[trial-0]"]
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "summary.md"]
    assert not (chaos.home / "reports").exists()


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["run", "--json", "{folder}"], "--json"),
        (["run", "--json", "{folder}", "{scenario}"], "--json"),
        (["run", "{scenario}", "--md", "{folder}"], "--md"),
        (["run", "{folder}", "--junit", "{scenario}"], "--junit"),
        (["report", "{journal}", "--html", "{folder}"], "--html"),
    ],
)
def test_a_report_flag_never_takes_a_path_to_run(chaos: Chaos, args: list[str], flag: str) -> None:
    scenario = chaos.scenario("scenarios/tiny.yaml", supervisor_scenario("tiny"))
    journal = chaos.home / "journal.json"
    journal.write_text('{"schema": "chaos-journal/1", "started": "", "scenarios": []}', "utf-8")
    paths = {"folder": str(scenario.parent), "scenario": str(scenario), "journal": str(journal)}
    before = scenario.read_bytes()

    result = chaos.run(*(arg.format(**paths) for arg in args))

    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result
    assert f"write {flag} FILE, or put a bare {flag} after the paths" in lines[0], result
    assert "Traceback" not in result.stderr + result.stdout, result
    assert scenario.read_bytes() == before
    assert sorted(p.name for p in chaos.home.iterdir()) == ["journal.json", "scenarios", "tmp"]


def test_reports_are_readable_by_others_under_the_usual_umask(reported: Reported) -> None:
    mask = os.umask(0o022)
    os.umask(mask)
    for name in REPORTS:
        mode = stat.S_IMODE((reported.out / name).stat().st_mode)
        assert mode == 0o666 & ~mask, (name, oct(mode))


def test_trend_over_three_journals_writes_its_chart_and_table(
    reported: Reported, tmp_path: Path
) -> None:
    original = read_journal(reported.out / "journal.json")
    paths = []
    for version in ("0.3.0", "0.1.0", "0.2.0"):
        copy = dict(original, harness={**original["harness"], "version": version})
        path = tmp_path / version / "journal.json"
        path.parent.mkdir()
        path.write_text(json.dumps(copy), encoding="utf-8")
        paths.append(path)
    html, md = tmp_path / "trend.html", tmp_path / "trend.md"

    result = reported.runner.run("trend", *paths, "--html", html, "--md", md)

    assert result.returncode == 0, result
    assert "ordered by version" in result.stdout, result
    rows = [line for line in md.read_text(encoding="utf-8").splitlines() if line[:4] == "| 1 "]
    assert rows, md.read_text(encoding="utf-8")
    assert rows[0].startswith("| 1 | 0.1.0 |"), rows
    assert '<svg class="trend"' in html.read_text(encoding="utf-8")
    assert "no point where compare would flag a regression" in result.stdout


def test_trend_needs_two_journals(reported: Reported) -> None:
    result = reported.runner.run("trend", reported.out / "journal.json")

    assert result.returncode == 2, result
    assert "a trend needs two journals or more" in result.stderr

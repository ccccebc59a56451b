"""The plugin's report options come from the reporter registry: ``--chaos-out DIR`` writes
every reporter's file there, ``--chaos-FLAG FILE`` one report in its own place (with or
without ``--chaos-out``), and a pytest run that collects no scenario imports no renderer.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from junitparser import JUnitXml

from harness.report.registry import reporters

from .tiny import INI, write_scenario

pytest_plugins = ["pytester"]


def files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_one_option_per_reporter_in_help(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--help")

    assert result.ret == pytest.ExitCode.OK
    text = result.stdout.str()
    for reporter in reporters():
        assert f"--chaos-{reporter.option}=FILE" in text, reporter.name
        assert reporter.filename in text, reporter.name  # listed under --chaos-out


@pytest.mark.integration
def test_chaos_junit_file_alone_writes_only_that_report(
    pytester: pytest.Pytester, run_tmp: Path
) -> None:
    pytester.makeini(INI)
    write_scenario(pytester, "tiny-restart")

    result = pytester.runpytest_subprocess(
        "scenarios", "--chaos-junit", "ci/chaos.xml", "--chaos-json", "ci/journal.json"
    )

    result.assert_outcomes(passed=1)
    assert files(pytester.path / "ci") == ["chaos.xml", "journal.json"]
    cases = [c for s in JUnitXml.fromfile(str(pytester.path / "ci" / "chaos.xml")) for c in s]
    assert [c.name for c in cases] == ["tiny-restart[trial-0]"]
    journal = json.loads((pytester.path / "ci" / "journal.json").read_text(encoding="utf-8"))
    assert journal["summary"]["passed"] == 1


@pytest.mark.integration
def test_chaos_out_writes_every_report_and_a_file_option_moves_one(
    pytester: pytest.Pytester, run_tmp: Path
) -> None:
    pytester.makeini(INI)
    write_scenario(pytester, "tiny-restart")

    result = pytester.runpytest_subprocess(
        "scenarios", "--chaos-out", "out", "--chaos-html", "html/chaos.html"
    )

    result.assert_outcomes(passed=1)
    moved = {"html"}
    assert files(pytester.path / "out") == sorted(
        r.filename for r in reporters() if r.name not in moved
    )
    assert "<svg" in (pytester.path / "html" / "chaos.html").read_text(encoding="utf-8")


def test_a_run_without_scenarios_imports_no_renderer(pytester: pytest.Pytester) -> None:
    """The plugin is loaded by every pytest run where chaos is installed: it may read the
    registry (names only) but must leave the renderers, and the rest, unimported."""
    pytester.makeini(INI)
    pytester.makepyfile(
        test_plain="""
        import sys

        def test_only_the_registry_is_loaded():
            loaded = sorted(m for m in sys.modules if m.startswith("harness"))
            assert "harness.report.registry" in loaded  # the plugin is active here
            assert loaded == [
                "harness",
                "harness.pytest_plugin",
                "harness.report",
                "harness.report.registry",
                "harness.spec",
                "harness.spec.registry",
                "harness.spec.version",
            ]
        """
    )

    result = pytester.runpytest_subprocess("test_plain.py", "--chaos-out", "out")

    result.assert_outcomes(passed=1)
    assert not (pytester.path / "out").exists(), "no scenario ran: nothing to report"

"""Scenario items run for real: verdicts, the failure report, the written reports, xdist.

Each test runs pytest in a subprocess (the plugin is installed, so it is active there as it
is for a user) on the tiny supervisor of ``tiny.py``: real processes, a real SIGKILL.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .tiny import project, write_scenario

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.integration

REPORTS = ("journal.json", "junit.xml", "report.html", "summary.md")


def test_pass_and_fail_with_reports(pytester: pytest.Pytester, run_tmp: Path) -> None:
    project(pytester)

    result = pytester.runpytest_subprocess("scenarios", "--chaos-out", "out", "-rf")

    result.assert_outcomes(passed=1, failed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "FAILED scenarios/tiny-broken.yaml::tiny-broken[[]trial-0[]] - recovers: child not*",
        ]
    )
    # The failure is the trial's story, not a harness traceback.
    result.stdout.fnmatch_lines(
        [
            "*_ tiny-broken[[]trial-0[]] _*",
            "tiny-broken trial 1: FAIL after *s  seed=*",
            "  vars: mode='no-restart'",
            "  ✗ recovers (fail): child not recovered after the kill at *",
            "      expected: child back (spawned) within 10s after every fault that hit it",
            "      observed: spawned per fault: never",
            "      timeline around the evidence:",
            "*fault fault=0 kind=kill phase=instant effect=ends role=child*",
        ]
    )
    output = result.stdout.str()
    assert "child is not restarted" in output  # the system's own log, in the excerpt
    assert "Traceback" not in output
    assert "ScenarioFailed" not in output
    assert "alive (fail)" not in output  # only what failed is listed

    out = pytester.path / "out"
    assert sorted(p.name for p in out.iterdir()) == sorted(REPORTS)
    journal = json.loads((out / "journal.json").read_text(encoding="utf-8"))
    assert journal["summary"]["trials"] == 2
    assert journal["summary"]["failed"] == 1
    verdicts = {s["name"]: s["verdict"] for s in journal["scenarios"]}
    assert verdicts == {"tiny-broken": "fail", "tiny-restart": "pass"}
    assert "tiny-broken" in (out / "junit.xml").read_text(encoding="utf-8")


def test_fixed_system_passes_and_var_override_breaks_it(
    pytester: pytest.Pytester, run_tmp: Path
) -> None:
    project(pytester)
    passing = pytester.runpytest_subprocess("scenarios/tiny-restart.yaml")
    passing.assert_outcomes(passed=1)
    assert passing.ret == pytest.ExitCode.OK

    broken = pytester.runpytest_subprocess(
        "scenarios/tiny-restart.yaml", "--chaos-var", "mode=no-restart"
    )
    broken.assert_outcomes(failed=1)
    broken.stdout.fnmatch_lines(["  ✗ recovers (fail): child not recovered*"])


def test_xdist_controller_gathers_every_trial(pytester: pytest.Pytester, run_tmp: Path) -> None:
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    write_scenario(pytester, "tiny-restart")

    result = pytester.runpytest_subprocess(
        "-n", "2", "scenarios", "--chaos-repeat", "2", "--chaos-out", "out", "--chaos-seed", "7"
    )

    result.assert_outcomes(passed=2)
    journal = json.loads((pytester.path / "out" / "journal.json").read_text(encoding="utf-8"))
    (scenario,) = journal["scenarios"]
    assert [t["index"] for t in scenario["trials"]] == [0, 1]
    assert all(t["verdict"] == "pass" for t in scenario["trials"])
    assert all(t["events"] for t in scenario["trials"])  # whole timelines crossed over
    assert journal["harness"]["seed"] == 7
    # Trial results ride on the report, not in user_properties: pytest's JUnit stays small.
    assert sorted(p.name for p in (pytester.path / "out").iterdir()) == sorted(REPORTS)


def test_junitxml_stays_free_of_timelines(pytester: pytest.Pytester, run_tmp: Path) -> None:
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    write_scenario(pytester, "tiny-restart")

    result = pytester.runpytest_subprocess("scenarios", "--junitxml", "pytest.xml")

    result.assert_outcomes(passed=1)
    xml = (pytester.path / "pytest.xml").read_text(encoding="utf-8")
    assert 'name="tiny-restart[trial-0]"' in xml
    assert "process_start" not in xml

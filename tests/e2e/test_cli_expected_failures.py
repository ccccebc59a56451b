"""``expect: fail`` through ``chaos run``: an expected failure passes the run as XFAIL, a
pass of such a scenario fails it as XPASS; every report says the same."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from e2e_support import Chaos, read_journal

pytestmark = pytest.mark.e2e

SCENARIO = """\
    name: NAME
    timeout: 60s
    expect: fail
    reason: the root is killed and nothing restarts it
    system:
      command: ["{python}", -c, "import signal; print('up', flush=True); signal.pause()"]
      ready: {log: '^up$', timeout: 20s}
    roles:
      app: {root: true}
    faults: FAULTS
    duration: 600ms
    invariants:
      - alive: {role: app}
    """


def _scenario(chaos: Chaos, name: str, faults: str) -> None:
    text = SCENARIO.replace("NAME", name).replace("FAULTS", faults)
    chaos.scenario(f"s/{name}.yaml", text)


def test_an_expected_failure_passes_the_run_as_xfail(chaos: Chaos) -> None:
    _scenario(chaos, "killed", "[{at: 100ms, kill: {role: app}}]")
    result = chaos.run("run", chaos.home / "s")
    assert result.returncode == 0, result
    assert "XFAIL killed trial 1" in result.stdout
    assert "1 failed as expected" in result.stdout
    journal = read_journal(chaos.home / "reports" / "journal.json")
    [scenario] = journal["scenarios"]
    assert scenario["verdict"] == "fail"  # the judgement itself is kept
    assert scenario["outcome"] == "xfail"
    assert scenario["expected_failure"] == "the root is killed and nothing restarts it"
    assert journal["summary"]["failed"] == 0
    assert journal["summary"]["xfailed"] == 1
    case = ET.parse(chaos.home / "reports" / "junit.xml").getroot().find(".//testcase")
    assert case is not None
    skipped = case.find("skipped")
    assert skipped is not None
    assert skipped.get("type") == "chaos.xfail"
    assert "nothing restarts it" in (skipped.get("message") or "")
    summary = (chaos.home / "reports" / "summary.md").read_text(encoding="utf-8")
    assert "### Expected failures" in summary
    assert "1 failed as expected" in summary
    assert "badge xfail" in (chaos.home / "reports" / "report.html").read_text(encoding="utf-8")


def test_a_pass_of_an_expected_failure_fails_the_run_as_xpass(chaos: Chaos) -> None:
    _scenario(chaos, "survives", "[]")
    _scenario(chaos, "killed", "[{at: 100ms, kill: {role: app}}]")
    result = chaos.run("run", chaos.home / "s")
    assert result.returncode == 1, result
    assert "XPASS survives trial 1" in result.stdout
    assert "passed, but expected to fail" in result.stdout
    journal = read_journal(chaos.home / "reports" / "journal.json")
    outcomes = {s["name"]: s["outcome"] for s in journal["scenarios"]}
    assert outcomes == {"survives": "xpass", "killed": "xfail"}
    assert journal["summary"]["xpassed"] == 1
    root = ET.parse(chaos.home / "reports" / "junit.xml").getroot()
    failures = root.findall(".//failure")
    assert [f.get("type") for f in failures] == ["chaos.xpass"]
    assert (failures[0].get("message") or "").startswith("[XPASS(strict)] ")
    # re-rendering the journal agrees, and so does its exit code
    again = chaos.run("report", chaos.home / "reports" / "journal.json", "--md", "again.md")
    assert again.returncode == 1, again
    assert "passed unexpectedly" in (chaos.home / "again.md").read_text(encoding="utf-8")


def test_expect_fail_without_a_reason_is_refused(chaos: Chaos) -> None:
    text = SCENARIO.replace("NAME", "why").replace("FAULTS", "[]")
    text = text.replace("    reason: the root is killed and nothing restarts it\n", "")
    path = chaos.scenario("why.yaml", text)
    result = chaos.run("validate", path)
    assert result.returncode == 2, result
    assert "expect: fail needs a reason" in result.stdout + result.stderr

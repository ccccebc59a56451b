"""``expect: fail`` read into outcomes: counts, the journal (old ones too), merging and the
reports agree on XFAIL and XPASS."""

from __future__ import annotations

import dataclasses

from harness.report.junit import to_junit
from harness.report.markdown import to_markdown
from harness.results.journal import run_from_dict, run_to_dict
from harness.results.merge import merge
from harness.results.model import RunResult, ScenarioResult, TrialResult
from harness.spec.verdict import Outcome, Verdict, outcome

REASON = "workers are orphaned when the master is killed"


def _trial(index: int, verdict: Verdict) -> TrialResult:
    return TrialResult(index=index, verdict=verdict, duration_s=1.0, seed=index)


def _run(*verdicts: Verdict, expected: str | None = REASON) -> RunResult:
    trials = [_trial(i, v) for i, v in enumerate(verdicts)]
    scenario = ScenarioResult(name="s", file="s.yaml", trials=trials, expected_failure=expected)
    return RunResult(started="2026-12-01T11:00:00+00:00", scenarios=[scenario])


def test_a_verdict_read_against_the_expectation() -> None:
    assert outcome(Verdict.FAIL, REASON) is Outcome.XFAIL
    assert outcome(Verdict.PASS, REASON) is Outcome.XPASS
    assert outcome(Verdict.ERROR, REASON) is Outcome.ERROR  # the harness's fault stays so
    assert outcome(Verdict.FAIL, None) is Outcome.FAIL
    assert [o for o in Outcome if o.bad] == [Outcome.FAIL, Outcome.ERROR, Outcome.XPASS]


def test_one_unexpected_pass_makes_the_scenario_xpass() -> None:
    run = _run(Verdict.FAIL, Verdict.PASS)
    assert run.scenarios[0].outcome is Outcome.XPASS
    assert run.scenarios[0].verdict is Verdict.FAIL  # the judgement is unchanged
    counts = run.summary()
    assert (counts["failed"], counts["xfailed"], counts["xpassed"]) == (0, 1, 1)
    assert _run(Verdict.FAIL, Verdict.FAIL).scenarios[0].outcome is Outcome.XFAIL


def test_the_journal_keeps_the_expectation_and_an_old_journal_reads_without_one() -> None:
    data = run_to_dict(_run(Verdict.FAIL))
    [scenario] = data["scenarios"]
    assert (scenario["verdict"], scenario["outcome"]) == ("fail", "xfail")
    assert run_from_dict(data).scenarios[0].expected_failure == REASON
    del scenario["expected_failure"], scenario["outcome"]  # as written before expect existed
    old = run_from_dict(data)
    assert old.scenarios[0].expected_failure is None
    assert old.scenarios[0].outcome is Outcome.FAIL


def test_merging_keeps_the_expectation() -> None:
    first = _run(Verdict.FAIL)
    second = dataclasses.replace(first, started="2026-12-01T11:05:00+00:00")
    second.scenarios = [dataclasses.replace(first.scenarios[0], trials=[_trial(1, Verdict.FAIL)])]
    merged = merge([("a.json", first), ("b.json", second)]).run
    assert merged.scenarios[0].expected_failure == REASON
    assert merged.summary()["xfailed"] == 2


def test_junit_and_markdown_say_xfail_and_xpass() -> None:
    xml = to_junit(_run(Verdict.FAIL, Verdict.PASS))
    assert 'type="chaos.xfail"' in xml
    assert f'message="[XPASS(strict)] {REASON}"' in xml
    assert 'failures="1"' in xml
    assert 'skipped="1"' in xml
    markdown = to_markdown(_run(Verdict.FAIL, Verdict.PASS))
    assert "1 failed as expected, 1 passed unexpectedly" in markdown
    assert "passed, but expected to fail" in markdown
    assert "### Expected failures" in markdown

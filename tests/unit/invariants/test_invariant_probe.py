"""``probe``: readings chosen by ``at``, read at a dotted path, compared."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from timelines import Story, backend_system

from harness.invariants.probe import ProbeCheckSpec, check
from harness.spec.verdict import Verdict


def spec(**fields: object) -> ProbeCheckSpec:
    return ProbeCheckSpec.model_validate({"name": "status", "path": "backend.state", **fields})


def state(value: str) -> dict[str, object]:
    return {"backend": {"state": value}, "modules": [{"status": "ok"}, {"status": value}]}


def running_story() -> Story:
    story = backend_system().probe(0.3, "status", state("starting"))
    return story.probe(0.6, "status", state("running")).probe(1.0, "status", state("running"))


def test_end_reads_the_last_reading() -> None:
    res = check(spec(equals="running", at="end"), running_story().teardown(6.0).history())
    assert res.verdict is Verdict.PASS
    story = running_story().probe(1.5, "status", state("crashed")).teardown(6.0)
    res = check(spec(equals="running", at="end"), story.history())
    assert res.verdict is Verdict.FAIL
    assert "status.backend.state was 'crashed' at 1.50s" in res.detail
    assert res.evidence == [1.5]


def test_end_fails_on_a_failed_last_reading() -> None:
    story = running_story().probe(1.5, "status", None, ok=False).teardown(6.0)
    res = check(spec(equals="running", at="end"), story.history())
    assert res.verdict is Verdict.FAIL
    assert "failed: connection refused" in res.detail


def test_start_is_the_first_ok_reading_after_ready() -> None:
    story = running_story().teardown(6.0)
    assert check(spec(equals="running", at="start"), story.history()).verdict is Verdict.PASS


def test_always_fails_on_any_bad_ok_reading_and_ignores_failed_ones() -> None:
    story = running_story().probe(1.2, "status", None, ok=False).teardown(6.0)
    assert check(spec(equals="running", at="always"), story.history()).verdict is Verdict.PASS
    story.probe(1.4, "status", state("stopped"))
    res = check(spec(equals="running", at="always"), story.history())
    assert res.verdict is Verdict.FAIL
    assert "(1 of 3 reading(s) did not)" in res.detail


def test_list_indexes_and_matches() -> None:
    story = running_story().teardown(6.0)
    res = check(spec(path="modules.1.status", matches="^run", at="end"), story.history())
    assert res.verdict is Verdict.PASS
    res = check(spec(path="modules.7.status", matches="^run", at="end"), story.history())
    assert res.verdict is Verdict.FAIL
    assert "<missing>" in res.detail


def test_eventually_within_the_last_fault() -> None:
    story = running_story().kill(2.0, 101).probe(2.5, "status", state("crashed"))
    story.probe(3.5, "status", state("running")).teardown(6.0)
    ok = check(spec(**{"in": ["running"]}, at="eventually", within="2s"), story.history())
    assert ok.verdict is Verdict.PASS
    assert ok.evidence == [3.5]
    late = check(spec(equals="running", at="eventually", within="1s"), story.history())
    assert late.verdict is Verdict.FAIL
    assert "never equals 'running'" in late.detail
    assert "after the last fault at 2.00s" in late.detail


def test_during_faults_catches_a_status_that_stays_ok_while_frozen() -> None:
    story = running_story().freeze(2.0, 4.0, 101)
    story.probe(2.5, "status", state("running")).probe(3.5, "status", state("running"))
    story.probe(4.5, "status", state("running")).teardown(6.0)
    lying = check(spec(**{"in": ["stalled", "crashed"]}, at="during_faults"), story.history())
    assert lying.verdict is Verdict.FAIL
    assert lying.evidence == [2.5, 3.5]


def test_no_qualifying_reading_fails() -> None:
    res = check(spec(equals="running", at="during_faults"), running_story().history())
    assert res.verdict is Verdict.FAIL
    assert "nothing to judge" in res.detail


def test_above_and_below_need_numbers() -> None:
    story = backend_system().probe(1.0, "status", {"n": 3}).probe(1.1, "status", {"n": True})
    res = check(spec(path="n", above=1, below=5, at="always"), story.history())
    assert res.verdict is Verdict.FAIL
    assert "was True" in res.detail


def test_spec_needs_an_expectation_and_within_only_for_eventually() -> None:
    with pytest.raises(ValidationError, match="at least one of"):
        spec()
    with pytest.raises(ValidationError, match="within only applies"):
        spec(equals=1, within="1s")
    with pytest.raises(ValidationError, match="regular expression"):
        spec(matches="(")

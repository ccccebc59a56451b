"""``restarts`` counts replacements: not late-seen first children, not teardown's doing."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from timelines import Story, backend_system

from harness.invariants.restarts import RestartsSpec, check
from harness.spec.verdict import Verdict


def spec(**fields: object) -> RestartsSpec:
    return RestartsSpec.model_validate({"role": "backend", **fields})


def one_kill_one_restart() -> Story:
    story = backend_system().kill(1.0, 101).exit(1.01, 101, signal="SIGKILL")
    return story.start(1.5, 102, "backend")


def test_within_max_passes_and_counts() -> None:
    res = check(spec(max=1), one_kill_one_restart().teardown(6.0).history())
    assert res.verdict is Verdict.PASS
    assert res.metrics == {"restarts": 1}
    assert res.evidence == [1.5]


def test_a_restart_loop_fails_over_max() -> None:
    story = one_kill_one_restart()
    for n in range(4):
        story.exit(2.0 + n, 102 + n, code=11).start(2.5 + n, 103 + n, "backend")
    res = check(spec(max=3), story.teardown(8.0).history())
    assert res.verdict is Verdict.FAIL
    assert "restarted 5 time(s)" in res.detail
    assert "2 over the maximum of 3" in res.detail


def test_min_fails_when_never_restarted() -> None:
    story = backend_system().kill(1.0, 101).exit(1.01, 101).teardown(6.0)
    res = check(spec(min=1), story.history())
    assert res.verdict is Verdict.FAIL
    assert "1 under the minimum of 1" in res.detail


def test_per_fault_wants_exactly_one_restart_per_kill() -> None:
    story = one_kill_one_restart().kill(3.0, 102).exit(3.01, 102).teardown(6.0)
    res = check(spec(per_fault=True), story.history())
    assert res.verdict is Verdict.FAIL
    assert res.metrics == {"restarts": 1, "kills": 2}
    assert "1 fewer than the 2 kill(s)" in res.detail
    story.start(3.5, 103, "backend")
    assert check(spec(per_fault=True), story.history()).verdict is Verdict.PASS


def test_per_fault_with_nothing_killed_fails_with_nothing_to_judge() -> None:
    story = backend_system().miss(1.0, "backend", "no live process of role backend")
    res = check(spec(per_fault=True), story.teardown(6.0).history())
    assert res.verdict is Verdict.FAIL
    assert res.detail == (
        "no fault ended a process of role backend (1 missed: at 1.00s: no live process of role"
        " backend), so one restart per kill cannot be judged (backend was restarted 0 time(s));"
        " nothing to judge"
    )
    assert res.metrics == {"restarts": 0, "kills": 0}


def test_max_alone_judges_a_loop_even_without_a_kill() -> None:
    story = backend_system().exit(1.0, 101, code=11).start(1.2, 102, "backend").teardown(6.0)
    assert check(spec(max=2), story.history()).verdict is Verdict.PASS


def test_restart_after_teardown_does_not_count() -> None:
    story = backend_system().teardown(5.0).exit(5.1, 101).start(5.3, 102, "backend")
    res = check(spec(max=0), story.history())
    assert res.verdict is Verdict.PASS
    assert res.metrics["restarts"] == 0


def test_a_child_first_seen_after_ready_is_not_a_restart() -> None:
    story = backend_system().start(0.7, 105, "backend").teardown(6.0)
    assert check(spec(max=0), story.history()).metrics["restarts"] == 0


def test_restarts_are_counted_across_instances() -> None:
    story = backend_system(instances=2).kill(1.0, 101, 111).exit(1.01, 101).exit(1.01, 111)
    story.start(1.5, 102, "backend", instance=0).start(1.6, 112, "backend", instance=1)
    res = check(spec(max=1), story.teardown(6.0).history())
    assert res.verdict is Verdict.FAIL
    assert res.metrics["restarts"] == 2


def test_a_spec_without_a_bound_is_refused() -> None:
    with pytest.raises(ValidationError, match="max, min or per_fault"):
        spec()
    with pytest.raises(ValidationError, match="above max"):
        spec(min=3, max=1)

"""``recovers`` on recorded timelines: measured per fault, frozen counts as down, nothing
hit is a failure, not a silent pass."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from timelines import Story, backend_system

from harness.invariants.base import RoleFacts
from harness.invariants.recovers import RecoversSpec, check
from harness.spec.verdict import Verdict


def spec(**fields: object) -> RecoversSpec:
    return RecoversSpec.model_validate({"role": "backend", "within": "2s", **fields})


def test_recovered_within_the_bound_passes_and_measures_the_recovery() -> None:
    story = backend_system().kill(1.0, 101).exit(1.02, 101, signal="SIGKILL")
    story.start(1.8, 102, "backend").teardown(6.0)
    res = check(spec(), story.history())
    assert res.verdict is Verdict.PASS
    assert res.metrics["recovery_s"] == [pytest.approx(0.8)]
    assert 1.0 in res.evidence
    assert 1.8 in res.evidence
    assert res.spec == {"role": "backend", "within": "2000ms", "probe": None, "count": None}


def test_slow_recovery_fails_saying_by_how_much() -> None:
    story = backend_system().kill(1.0, 101).exit(1.01, 101, signal="SIGKILL")
    story.start(4.21, 102, "backend").teardown(6.0)
    res = check(spec(), story.history())
    assert res.verdict is Verdict.FAIL
    assert "recovered in 3.21s after the kill at 1.00s" in res.detail
    assert "expected within 2s (1.21s over)" in res.detail


def test_never_recovered_fails_with_the_end_of_trial() -> None:
    story = backend_system().kill(1.0, 101).exit(1.01, 101, signal="SIGKILL").teardown(6.0)
    res = check(spec(), story.history())
    assert res.verdict is Verdict.FAIL
    assert "not recovered after the kill at 1.00s (fault #0) by end of trial (t=6.00s" in res.detail
    assert res.metrics["recovery_s"] == []


def test_a_restart_after_teardown_began_does_not_count_as_recovery() -> None:
    story = backend_system().kill(1.0, 101).exit(1.01, 101, signal="SIGKILL")
    story.teardown(2.0).start(2.5, 102, "backend")
    assert check(spec(within="5s"), story.history()).verdict is Verdict.FAIL


def test_no_fault_at_all_fails_with_nothing_to_judge() -> None:
    res = check(spec(), backend_system().teardown(6.0).history())
    assert res.verdict is Verdict.FAIL
    assert res.detail == "no fault ended or stopped a process of role backend; nothing to judge"


def test_a_missed_fault_is_named_in_the_nothing_to_judge_sentence() -> None:
    story = backend_system().miss(1.0, "backend", "no live process of role backend")
    res = check(spec(), story.teardown(6.0).history())
    assert res.verdict is Verdict.FAIL
    assert "1 missed" in res.detail
    assert "no live process of role backend" in res.detail


def test_a_kill_of_a_process_of_another_role_is_not_judged() -> None:
    story = backend_system().start(0.2, 150, "worker").kill(1.0, 150)
    story.exit(1.01, 150, signal="SIGKILL").teardown(6.0)
    res = check(spec(), story.history())
    assert res.verdict is Verdict.FAIL
    assert "nothing to judge" in res.detail


def test_frozen_then_thawed_recovers_at_the_thaw() -> None:
    story = backend_system().freeze(1.0, 2.5, 101).teardown(6.0)
    res = check(spec(), story.history())
    assert res.verdict is Verdict.PASS
    assert res.metrics["recovery_s"] == [pytest.approx(1.5)]


def test_frozen_for_longer_than_the_bound_fails() -> None:
    story = backend_system().freeze(1.0, 4.0, 101).teardown(6.0)
    res = check(spec(), story.history())
    assert res.verdict is Verdict.FAIL
    assert "after the freeze at 1.00s" in res.detail
    assert "(1.00s over)" in res.detail


def test_a_frozen_process_that_is_replaced_recovers_with_the_replacement() -> None:
    story = backend_system().freeze(1.0, None, 101).exit(2.0, 101, signal="SIGKILL")
    story.start(2.2, 102, "backend").teardown(6.0)
    res = check(spec(), story.history())
    assert res.metrics["recovery_s"] == [pytest.approx(1.2)]


def test_a_process_that_ignores_its_kill_signal_stays_counted() -> None:
    story = backend_system().kill(1.0, 101).teardown(6.0).exit(6.1, 101, code=0)
    res = check(spec(), story.history())
    assert res.verdict is Verdict.PASS
    assert res.metrics["recovery_s"] == [0.0]


def test_with_a_probe_recovery_waits_for_an_ok_reading_after_the_replacement() -> None:
    story = backend_system().kill(1.0, 101).exit(1.01, 101, signal="SIGKILL")
    story.probe(1.05, "health", {"ok": True})  # answered by a cache, before the replacement
    story.start(1.5, 102, "backend").probe(1.6, "health", None, ok=False)
    story.probe(2.7, "health", {"ok": True}).teardown(6.0)
    res = check(spec(probe="health"), story.history())
    assert res.verdict is Verdict.PASS
    assert res.metrics["recovery_s"] == [pytest.approx(1.7)]


def test_count_requires_every_replica_back() -> None:
    story = Story(roles={"backend": RoleFacts(count=2)}).root(0.0, 100)
    story.start(0.1, 101, "backend").start(0.1, 102, "backend").ready(0.5)
    story.kill(1.0, 101, 102).exit(1.01, 101).exit(1.01, 102)
    story.start(1.5, 103, "backend").start(3.9, 104, "backend").teardown(6.0)
    res = check(spec(), story.history())
    assert res.verdict is Verdict.FAIL
    assert res.metrics["recovery_s"] == [pytest.approx(2.9)]
    assert check(spec(count=1), story.history()).verdict is Verdict.PASS


def test_each_fault_is_measured_and_the_slowest_decides() -> None:
    story = backend_system().kill(1.0, 101).exit(1.01, 101).start(1.5, 102, "backend")
    story.kill(3.0, 102).exit(3.01, 102).start(5.5, 103, "backend").teardown(8.0)
    res = check(spec(), story.history())
    assert res.metrics["recovery_s"] == [pytest.approx(0.5), pytest.approx(2.5)]
    assert res.verdict is Verdict.FAIL
    assert "kill at 3.00s (fault #1)" in res.detail


def test_instances_are_judged_separately() -> None:
    story = backend_system(instances=2).kill(1.0, 101, 111).exit(1.01, 101).exit(1.01, 111)
    story.start(1.5, 102, "backend", instance=0).teardown(6.0)
    res = check(spec(), story.history())
    assert res.verdict is Verdict.FAIL
    assert "backend (instance 1)" in res.detail
    assert res.metrics["recovery_s"] == [pytest.approx(0.5)]


def test_a_root_role_recovers_only_if_a_new_root_appears() -> None:
    story = backend_system().kill(1.0, 100).exit(1.01, 100, signal="SIGKILL").teardown(6.0)
    res = check(
        RecoversSpec.model_validate({"role": "supervisor", "within": "2s"}), story.history()
    )
    assert res.verdict is Verdict.FAIL
    assert "supervisor not recovered after the kill at 1.00s" in res.detail


@given(
    kill_at=st.floats(0.6, 10.0),
    gap=st.floats(0.0, 5.0),
    restart_delay=st.one_of(st.none(), st.floats(0.0, 10.0)),
)
def test_recovery_is_never_negative_nor_past_the_end(
    kill_at: float, gap: float, restart_delay: float | None
) -> None:
    story = backend_system().kill(kill_at, 101).exit(kill_at + gap, 101)
    end = kill_at + gap + 5.0
    if restart_delay is not None:
        story.start(kill_at + gap + restart_delay, 102, "backend")
    story.teardown(end)
    res = check(spec(), story.history())
    for seconds in res.metrics["recovery_s"]:
        assert 0.0 <= seconds <= end
    expect_pass = restart_delay is not None and restart_delay < 5.0 and gap + restart_delay <= 2.0
    assert (res.verdict is Verdict.PASS) == expect_pass

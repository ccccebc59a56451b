"""``recovers`` on recorded timelines: measured per fault up to the ``until`` phase, a thaw
is never a recovery, nothing hit is a failure, not a silent pass."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from timelines import READY_LINE, Story, backend_system

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
    assert res.metrics["recovery_spawned_s"] == [pytest.approx(0.8)]
    assert 1.0 in res.evidence
    assert 1.8 in res.evidence
    assert res.spec == {
        "role": "backend",
        "within": "2000ms",
        "until": None,
        "probe": None,
        "count": None,
        "workload": None,
    }
    assert res.detail.startswith("backend respawned after all 1 fault(s), slowest in 800 ms")


def test_slow_recovery_fails_saying_by_how_much_and_which_phase() -> None:
    story = backend_system().kill(1.0, 101).exit(1.01, 101, signal="SIGKILL")
    story.start(4.21, 102, "backend").teardown(6.0)
    res = check(spec(until="spawned"), story.history())
    assert res.verdict is Verdict.FAIL
    assert "backend respawned in 3.21 s after the kill at 1.00s (fault #0)" in res.detail
    assert "expected within 2s (1.21 s over; died 10 ms · spawned 3.21 s)" in res.detail


def test_never_recovered_fails_with_the_end_of_trial() -> None:
    story = backend_system().kill(1.0, 101).exit(1.01, 101, signal="SIGKILL").teardown(6.0)
    res = check(spec(), story.history())
    assert res.verdict is Verdict.FAIL
    assert res.detail.startswith(
        "backend not recovered after the kill at 1.00s (fault #0): no replacement spawned"
        " (needed 1 live process(es)) by end of trial (t=6.00s, 5.00 s later)"
    )
    assert res.metrics["recovery_s"] == []
    assert res.observed == "spawned per fault: never"


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


# --------------------------------------------------------------------------- phases


def _phased() -> Story:
    """A backend killed at 1.0: dead at 1.002, respawned at 1.005, listening at 1.25
    (the port watcher's pace), ready by its own line at 1.031; a ui request fails at 1.01
    and the next one, sent at 1.05, is answered at 1.06."""
    story = backend_system(ready=READY_LINE).served(0.8)
    story.replace(1.0, 101, 102, died=1.002, spawned=1.005, listening=1.25, ready=1.031)
    story.served(1.01, ok=False).served(1.05, 0.01).served(1.10)
    return story.teardown(6.0)


def test_a_ready_line_read_before_the_replacement_was_first_seen_still_recovers() -> None:
    # The replacement says it is ready (1.020) before the tracker first sees it (1.080), as
    # on a loaded machine: it is ready, counted from the sighting, not "never ready".
    story = backend_system(ready=READY_LINE).served(0.8)
    story.kill(1.0, 101).exit(1.002, 101, signal="SIGKILL")
    story.log(1.020, "[supervisor] child pid 102 ready", "stderr")
    story.start(1.080, 102, "backend").teardown(6.0)
    res = check(spec(until="ready", within="1s"), story.history())
    assert res.verdict is Verdict.PASS, res.detail
    assert res.metrics["recovery_s"] == [pytest.approx(0.080)]


@pytest.mark.parametrize(
    ("until", "took"),
    [("spawned", 0.005), ("listening", 0.25), ("ready", 0.031), ("serving", 0.06)],
)
def test_until_judges_that_phase_and_the_message_names_it(until: str, took: float) -> None:
    res = check(spec(until=until, within="100ms"), _phased().history(workloads=("ui",)))
    assert res.metrics["recovery_s"] == [pytest.approx(took)]
    assert res.verdict is (Verdict.PASS if took <= 0.1 else Verdict.FAIL)
    assert res.observed == f"{until} per fault: {took * 1000:.0f} ms"
    assert until in res.expected  # type: ignore[operator]


def test_every_phase_that_applies_is_measured_and_recorded_per_fault() -> None:
    res = check(spec(until="ready"), _phased().history(workloads=("ui",)))
    assert res.metrics["recovery_spawned_s"] == [pytest.approx(0.005)]
    assert res.metrics["recovery_listening_s"] == [pytest.approx(0.25)]
    assert res.metrics["recovery_ready_s"] == [pytest.approx(0.031)]
    assert res.metrics["recovery_serving_s"] == [pytest.approx(0.06)]
    [record] = res.metrics["recoveries"]
    assert record["until"] == "ready"
    assert record["ok"] is True
    assert record["phases"] == ["spawned", "listening", "ready", "serving"]
    assert record["died_s"] == pytest.approx(0.002)
    assert record["last_failed_s"] == pytest.approx(0.01)
    assert (record["role"], record["fault"], record["kind"], record["pids"]) == (
        "backend",
        0,
        "kill",
        [101],
    )
    assert "died 2 ms · spawned 5 ms · listening 250 ms · ready 31 ms · serving 60 ms" in (
        res.detail
    )


def test_the_default_phase_is_ready_when_the_role_declares_a_readiness() -> None:
    res = check(spec(), _phased().history(workloads=("ui",)))
    assert res.metrics["recovery_s"] == [pytest.approx(0.031)]
    assert res.detail.startswith("backend ready again after all 1 fault(s)")


def test_phases_that_cannot_apply_are_left_out() -> None:
    story = backend_system().kill(1.0, 101).exit(1.01, 101).start(1.5, 102, "backend")
    res = check(spec(), story.teardown(6.0).history())
    assert "recovery_ready_s" not in res.metrics
    assert "recovery_listening_s" not in res.metrics
    assert "recovery_serving_s" not in res.metrics
    assert res.metrics["recoveries"][0]["phases"] == ["spawned"]


@pytest.mark.parametrize(
    ("until", "why"),
    [
        ("ready", "role backend declares no readiness (roles.backend.ready"),
        ("listening", "no process of role backend was ever seen listening on a port"),
        ("serving", "the scenario has no workload"),
    ],
)
def test_a_phase_that_cannot_be_measured_fails_with_nothing_to_judge(until: str, why: str) -> None:
    story = backend_system().kill(1.0, 101).exit(1.01, 101).start(1.5, 102, "backend")
    res = check(spec(until=until), story.teardown(6.0).history())
    assert res.verdict is Verdict.FAIL
    assert res.detail.startswith(f"until {until}: {why}")
    assert res.detail.endswith("nothing to judge")


def test_a_replacement_that_never_gets_ready_is_not_recovered() -> None:
    story = backend_system(ready=READY_LINE)
    story.replace(1.0, 101, 102, died=1.01, spawned=1.02).teardown(6.0)
    res = check(spec(until="ready"), story.history())
    assert res.verdict is Verdict.FAIL
    assert "not recovered after the kill at 1.00s (fault #0): not 1 live process(es) ready" in (
        res.detail
    )
    assert "spawned 20 ms · listening never · ready never" in res.detail


def test_a_survivor_answering_does_not_make_the_replacement_ready() -> None:
    # two workers; one is killed; the survivor keeps saying it is ready
    story = Story(roles={"backend": RoleFacts(count=2, ready=READY_LINE)}).root(0.0, 100)
    story.start(0.1, 101, "backend").start(0.1, 102, "backend")
    story.says_ready(0.2, 101).says_ready(0.2, 102).ready(0.5)
    story.replace(1.0, 101, 103, died=1.01, spawned=1.02)
    story.says_ready(1.1, 102).says_ready(1.2, 102).says_ready(1.7, 103).teardown(6.0)
    res = check(spec(until="ready"), story.history())
    assert res.metrics["recovery_s"] == [pytest.approx(0.7)]


def test_serving_is_the_first_ok_answer_after_the_last_failure_before_the_next_fault() -> None:
    story = backend_system().served(0.9)
    story.replace(1.0, 101, 102, died=1.01, spawned=1.1)
    story.served(1.02, ok=False).served(1.05, 0.2).served(1.3, ok=False).served(1.4, 0.05)
    story.replace(3.0, 102, 103, died=3.01, spawned=3.1)
    story.served(2.95, 0.1, ok=False)  # sent before the second kill, fails after it
    story.served(3.2, 0.01).teardown(6.0)
    res = check(spec(until="serving"), story.history(workloads=("ui",)))
    first, second = res.metrics["recoveries"]
    assert first["serving_s"] == pytest.approx(0.45)
    assert first["last_failed_s"] == pytest.approx(0.3)
    assert second["serving_s"] == pytest.approx(0.21)
    assert second["last_failed_s"] is None


def test_serving_reads_only_the_named_workload() -> None:
    story = backend_system().replace(1.0, 101, 102, died=1.01, spawned=1.1)
    story.served(1.1, 0.05).request(1.2, "other", ok=True).teardown(6.0)
    res = check(spec(until="serving", workload="other"), story.history(workloads=("ui", "other")))
    assert res.metrics["recovery_s"] == [pytest.approx(0.2)]


def test_legacy_probe_waits_for_an_ok_reading_after_the_replacement() -> None:
    story = backend_system().kill(1.0, 101).exit(1.01, 101, signal="SIGKILL")
    story.probe(1.05, "health", {"ok": True})  # answered by a cache, before the replacement
    story.start(1.5, 102, "backend").probe(1.6, "health", None, ok=False)
    story.probe(2.7, "health", {"ok": True}).teardown(6.0)
    res = check(spec(probe="health", within="3s"), story.history())
    assert res.verdict is Verdict.PASS
    assert res.metrics["recovery_s"] == [pytest.approx(1.7)]
    assert res.metrics["recovery_spawned_s"] == [pytest.approx(0.5)]


# --------------------------------------------------------------------------- freezes


def test_frozen_then_thawed_by_the_harness_is_not_a_recovery() -> None:
    story = backend_system().freeze(1.0, 2.5, 101).teardown(6.0)
    res = check(spec(), story.history())
    assert res.verdict is Verdict.FAIL
    assert res.detail.startswith(
        "backend not replaced after the freeze at 1.00s (fault #0); the harness thawed it at 2.50s"
    )
    assert res.metrics["recovery_s"] == []
    assert res.metrics["recoveries"][0]["replaced"] is False
    assert res.metrics["recoveries"][0]["thawed_s"] == pytest.approx(1.5)
    assert res.observed == "spawned per fault: not replaced"


def test_a_thaw_is_not_a_recovery_even_within_the_bound_and_until_serving() -> None:
    story = backend_system().served(0.9).freeze(1.0, 1.2, 101)
    story.served(1.05, 0.16).served(1.3).teardown(6.0)
    res = check(spec(until="serving"), story.history(workloads=("ui",)))
    assert res.verdict is Verdict.FAIL
    assert "the harness thawed it at 1.20s" in res.detail


def test_a_frozen_process_killed_and_replaced_by_the_system_recovers_with_the_replacement() -> None:
    story = backend_system(ready=READY_LINE).freeze(1.0, 6.0, 101)
    story.exit(2.0, 101, signal="SIGKILL").start(2.2, 102, "backend").says_ready(2.3, 102)
    res = check(spec(), story.teardown(7.0).history())
    assert res.verdict is Verdict.PASS, res.detail
    assert res.metrics["recovery_s"] == [pytest.approx(1.3)]
    [record] = res.metrics["recoveries"]
    assert record["replaced"] is True
    assert record["died_s"] == pytest.approx(1.0)


def test_a_frozen_process_replaced_without_being_killed_recovers() -> None:
    story = backend_system().freeze(1.0, 6.0, 101).start(1.4, 102, "backend").teardown(7.0)
    res = check(spec(), story.history())
    assert res.verdict is Verdict.PASS
    assert res.metrics["recovery_s"] == [pytest.approx(0.4)]


def test_a_frozen_process_never_thawed_nor_replaced_says_so() -> None:
    story = backend_system().freeze(1.0, None, 101).teardown(6.0)
    res = check(spec(), story.history())
    assert res.verdict is Verdict.FAIL
    assert "not replaced after the freeze at 1.00s (fault #0); still stopped" in res.detail


def test_a_thawed_process_counts_again_for_a_later_fault() -> None:
    story = Story(roles={"backend": RoleFacts(count=2)}).root(0.0, 100)
    story.start(0.1, 101, "backend").start(0.1, 102, "backend").ready(0.5)
    story.freeze(1.0, 1.5, 101)  # not replaced: this fault fails
    story.kill(3.0, 102).exit(3.01, 102).start(3.2, 103, "backend").teardown(6.0)
    res = check(spec(), story.history())
    thaw, kill = res.metrics["recoveries"]
    assert thaw["ok"] is False
    assert kill["ok"] is True
    assert kill["spawned_s"] == pytest.approx(0.2)


# --------------------------------------------------------------------------- counting


def test_a_process_that_ignores_its_kill_signal_stays_counted() -> None:
    story = backend_system().kill(1.0, 101).teardown(6.0).exit(6.1, 101, code=0)
    res = check(spec(), story.history())
    assert res.verdict is Verdict.PASS
    assert res.metrics["recovery_s"] == [0.0]


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
    ready_delay=st.floats(0.0, 3.0),
)
def test_phases_are_ordered_never_negative_nor_past_the_end(
    kill_at: float, gap: float, restart_delay: float | None, ready_delay: float
) -> None:
    if restart_delay is not None:  # times are kept to the µs: the bound itself is not drawn
        assume(abs(gap + restart_delay - 2.0) > 1e-5)
    story = backend_system(ready=READY_LINE).kill(kill_at, 101).exit(kill_at + gap, 101)
    end = kill_at + gap + 5.0
    if restart_delay is not None:
        spawned = kill_at + gap + restart_delay
        story.start(spawned, 102, "backend").says_ready(spawned + ready_delay, 102)
    story.teardown(end)
    res = check(spec(until="spawned"), story.history())
    [record] = res.metrics["recoveries"]
    for seconds in res.metrics["recovery_s"]:
        assert 0.0 <= seconds <= end + 1e-6
    if record["ready_s"] is not None:
        assert record["spawned_s"] is not None
        assert record["spawned_s"] <= record["ready_s"] <= end - kill_at + 1e-6  # rounded to µs
    expect_pass = restart_delay is not None and restart_delay < 5.0 and gap + restart_delay <= 2.0
    assert (res.verdict is Verdict.PASS) == expect_pass

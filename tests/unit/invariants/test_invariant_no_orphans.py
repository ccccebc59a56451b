"""``no_orphans``: the tree follows its root; harness kills are orphans."""

from __future__ import annotations

import pytest
from timelines import backend_system

from harness.invariants.no_orphans import NoOrphansSpec, check
from harness.spec.verdict import Verdict

SPEC = NoOrphansSpec.model_validate({"within": "2s"})


def test_children_exiting_soon_after_the_root_pass() -> None:
    story = backend_system().teardown(5.0).exit(5.1, 100, code=0).exit(5.6, 101, code=0)
    res = check(SPEC, story.history())
    assert res.verdict is Verdict.PASS
    assert res.metrics == {"orphans": 0, "last_child_exit_s": pytest.approx(0.5)}


def test_a_child_outliving_a_killed_root_is_one_orphan_ended_by_the_harness() -> None:
    story = backend_system().kill(1.0, 100).exit(1.01, 100, signal="SIGKILL")
    story.teardown(5.0).harness_kill(5.5, 101, "orphan").exit(5.5, 101, signal="SIGKILL")
    res = check(SPEC, story.history())
    assert res.verdict is Verdict.FAIL
    assert res.metrics["orphans"] == 1
    assert res.detail.startswith(
        "backend pid 101 still running at teardown: ended by the harness (orphan at 5.50s)"
    )
    assert "after its root" not in res.detail  # its exit was the harness's SIGKILL
    assert res.observed == "1 orphan(s)"


def test_three_swept_workers_are_three_orphans_not_six() -> None:
    story = backend_system().start(0.2, 102, "worker").start(0.2, 103, "worker")
    story.kill(1.0, 100).exit(1.01, 100, signal="SIGKILL").teardown(3.0)
    for pid in (101, 102, 103):
        story.harness_kill(8.0, pid).exit(8.01, pid, signal="SIGKILL")
    res = check(SPEC, story.history())
    assert res.metrics["orphans"] == 3
    assert res.observed == "3 orphan(s)"
    assert res.detail.count("ended by the harness (sweep at 8.00s)") == 3


def test_a_child_that_exits_late_on_its_own_says_how_late() -> None:
    story = backend_system().kill(1.0, 100).exit(1.01, 100, signal="SIGKILL")
    story.exit(3.51, 101, code=0).teardown(5.0)
    res = check(SPEC, story.history())
    assert res.metrics["orphans"] == 1
    assert res.detail.startswith(
        "backend pid 101 exited 2.50 s after its root (root exit at 1.01s)"
    )


def test_a_sweep_at_teardown_is_an_orphan_but_a_swept_root_is_not() -> None:
    story = backend_system().teardown(5.0).harness_kill(10.0, 100).exit(10.0, 100)
    story.exit(10.1, 101)
    assert check(SPEC, story.history()).verdict is Verdict.PASS
    story.harness_kill(10.0, 101)
    res = check(SPEC, story.history())
    assert res.verdict is Verdict.FAIL
    assert "(sweep at 10.00s)" in res.detail
    assert res.metrics["orphans"] == 1


def test_a_root_never_seen_to_exit_fails() -> None:
    res = check(SPEC, backend_system().teardown(5.0).history())
    assert res.verdict is Verdict.FAIL
    assert "never seen to exit" in res.detail


def test_instances_are_judged_separately() -> None:
    story = backend_system(instances=2).teardown(5.0)
    story.exit(5.1, 100).exit(5.2, 101).exit(5.1, 110).exit(9.0, 111)
    res = check(SPEC, story.history())
    assert res.verdict is Verdict.FAIL
    assert "pid 111 of instance 1" in res.detail
    assert res.metrics["orphans"] == 1

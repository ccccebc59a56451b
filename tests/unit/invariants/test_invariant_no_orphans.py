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


def test_a_child_outliving_a_killed_root_fails() -> None:
    story = backend_system().kill(1.0, 100).exit(1.01, 100, signal="SIGKILL")
    story.teardown(5.0).exit(5.5, 101, signal="SIGKILL").harness_kill(5.5, 101, "orphan")
    res = check(SPEC, story.history())
    assert res.verdict is Verdict.FAIL
    assert res.metrics["orphans"] == 2
    assert "backend pid 101 exited 4.49s after its root" in res.detail
    assert "had to be killed by the harness (orphan)" in res.detail


def test_a_sweep_at_teardown_is_an_orphan_but_a_swept_root_is_not() -> None:
    story = backend_system().teardown(5.0).harness_kill(10.0, 100).exit(10.0, 100)
    story.exit(10.1, 101)
    assert check(SPEC, story.history()).verdict is Verdict.PASS
    story.harness_kill(10.0, 101)
    res = check(SPEC, story.history())
    assert res.verdict is Verdict.FAIL
    assert "(sweep)" in res.detail


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

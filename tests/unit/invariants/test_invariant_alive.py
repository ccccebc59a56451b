"""``alive``: the pid at ready survives until teardown."""

from __future__ import annotations

from timelines import Story, backend_system

from harness.invariants.alive import AliveSpec, check
from harness.invariants.base import RoleFacts
from harness.spec.verdict import Verdict

SUP = AliveSpec(role="supervisor")


def test_same_pid_until_teardown_passes_even_if_it_exits_in_teardown() -> None:
    story = backend_system().teardown(5.0).exit(5.2, 100, code=0)
    res = check(SUP, story.history())
    assert res.verdict is Verdict.PASS
    assert res.metrics == {"pid": 100}


def test_an_exit_before_teardown_fails_naming_how() -> None:
    story = backend_system().exit(2.0, 100, code=1).teardown(5.0)
    res = check(SUP, story.history())
    assert res.verdict is Verdict.FAIL
    assert "supervisor pid 100 ended by exit code 1 at 2.00s" in res.detail
    assert res.evidence == [2.0]
    story = backend_system().exit(2.0, 100, signal="SIGKILL").teardown(5.0)
    assert "ended by signal SIGKILL" in check(SUP, story.history()).detail


def test_every_original_of_a_counted_role_is_judged() -> None:
    story = Story(roles={"module": RoleFacts(count=2)}).root(0.0, 100)
    story.start(0.1, 101, "module").start(0.1, 102, "module").ready(0.5)
    story.exit(1.0, 102, code=11).start(2.0, 103, "module").teardown(5.0)
    res = check(AliveSpec(role="module"), story.history())
    assert res.verdict is Verdict.FAIL
    assert res.metrics == {"pid": [101, 102]}
    assert "pid 102" in res.detail
    assert "101" not in res.detail


def test_never_ready_fails() -> None:
    story = Story().root(0.0, 100).exit(0.3, 100, code=1)
    assert "no instance became ready" in check(SUP, story.history()).detail


def test_instances_each_keep_their_pids() -> None:
    story = backend_system(instances=2).exit(1.0, 110, signal="SIGTERM").teardown(5.0)
    res = check(SUP, story.history())
    assert res.verdict is Verdict.FAIL
    assert "pid 110 (instance 1) ended by signal SIGTERM" in res.detail

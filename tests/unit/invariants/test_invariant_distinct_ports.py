"""``distinct_ports``: all instances ready, no port shared."""

from __future__ import annotations

from timelines import backend_system

from harness.invariants.distinct_ports import DistinctPortsSpec, check
from harness.spec.verdict import Verdict

ANY = DistinctPortsSpec()


def test_distinct_ports_pass() -> None:
    story = backend_system(instances=2).port(0.2, 101, 4000).port(0.2, 111, 4001)
    res = check(ANY, story.history())
    assert res.verdict is Verdict.PASS
    assert res.metrics == {"ports": {"0": [4000], "1": [4001]}}


def test_a_shared_port_fails_even_when_taken_over_later() -> None:
    story = backend_system(instances=2).port(0.2, 101, 39291).port(3.0, 111, 39291)
    res = check(ANY, story.history())
    assert res.verdict is Verdict.FAIL
    assert "port 39291 by instances [0, 1]" in res.detail
    assert res.evidence == [0.2, 3.0]


def test_ready_port_group_counts_and_role_filters() -> None:
    story = backend_system(instances=2).port(0.2, 100, 5000).port(0.2, 110, 5000)
    story.ready(0.6, 0, port="4000").ready(0.6, 1, port="4001")
    assert check(ANY, story.history()).verdict is Verdict.FAIL
    backends = DistinctPortsSpec(role="backend")
    assert check(backends, story.history()).verdict is Verdict.PASS


def test_an_instance_that_never_became_ready_fails() -> None:
    story = backend_system(instances=1).port(0.2, 101, 4000)
    story.instances = 2
    res = check(ANY, story.history())
    assert res.verdict is Verdict.FAIL
    assert "1 of 2 instances became ready (not: [1])" in res.detail


def test_an_instance_seen_on_no_port_fails() -> None:
    res = check(ANY, backend_system(instances=2).port(0.2, 101, 4000).history())
    assert res.verdict is Verdict.FAIL
    assert "instance(s) [1]" in res.detail

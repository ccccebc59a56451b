"""``steady``: healthy between ready and the first fault."""

from __future__ import annotations

from timelines import backend_system

from harness.invariants.steady import SteadySpec, check
from harness.spec.verdict import Verdict

SPEC = SteadySpec.model_validate({"probe": "status", "path": "state", "equals": "running"})


def test_steady_before_the_fault_passes_whatever_happens_after() -> None:
    story = backend_system().probe(0.6, "status", {"state": "running"})
    story.kill(1.0, 101).probe(1.2, "status", {"state": "crashed"})
    assert check(SPEC, story.history()).verdict is Verdict.PASS


def test_unhealthy_before_the_fault_fails() -> None:
    story = backend_system().probe(0.6, "status", {"state": "starting"}).kill(1.0, 101)
    res = check(SPEC, story.history())
    assert res.verdict is Verdict.FAIL
    assert "was 'starting' at 0.60s, before the first fault at 1.00s" in res.detail


def test_no_reading_before_the_fault_fails() -> None:
    story = backend_system().kill(1.0, 101).probe(1.2, "status", {"state": "running"})
    assert "nothing to judge" in check(SPEC, story.history()).detail


def test_equals_instance_stands_for_the_reading_instance() -> None:
    spec = SteadySpec.model_validate({"probe": "whoami", "path": "id", "equals": "i{instance}"})
    story = backend_system(instances=2).probe(0.6, "whoami", {"id": "i0"}, instance=0)
    story.probe(0.6, "whoami", {"id": "i1"}, instance=1)
    assert check(spec, story.kill(1.0, 101).history()).verdict is Verdict.PASS
    crossed = backend_system(instances=2).probe(0.6, "whoami", {"id": "i0"}, instance=1)
    crossed.kill(1.0, 101)
    res = check(spec, crossed.history())
    assert res.verdict is Verdict.FAIL
    assert "was 'i0' at 0.60s" in res.detail

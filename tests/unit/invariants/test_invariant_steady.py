"""``steady``: healthy between ready and the first fault."""

from __future__ import annotations

from timelines import backend_system

from harness.invariants.steady import SteadySpec, check
from harness.results import Verdict

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

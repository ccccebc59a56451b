"""``availability``: ok / total, with the most common failures named."""

from __future__ import annotations

import pytest
from timelines import backend_system

from harness.invariants.availability import AvailabilitySpec, check
from harness.spec.verdict import Verdict


def spec(**fields: object) -> AvailabilitySpec:
    return AvailabilitySpec.model_validate({"workload": "ui", "min": "99%", **fields})


def test_every_request_ok_passes() -> None:
    story = backend_system()
    for i in range(10):
        story.request(1.0 + i * 0.1)
    res = check(spec(), story.teardown(6.0).history())
    assert res.verdict is Verdict.PASS
    assert res.metrics == {"availability": 1.0, "requests": 10, "errors": 0}


def test_errors_below_the_minimum_fail_and_name_the_common_error() -> None:
    story = backend_system()
    for i in range(17):
        story.request(1.0 + i * 0.1)
    story.request(2.0, ok=False, status=None, error="connection refused")
    story.request(2.1, ok=False, status=None, error="connection refused")
    story.request(2.2, ok=False, status=503)
    res = check(spec(), story.teardown(6.0).history())
    assert res.verdict is Verdict.FAIL
    assert res.metrics["availability"] == pytest.approx(0.85)
    assert "85% of 20 ui requests succeeded" in res.detail
    assert "3 failed: 2x connection refused; 1x status 503" in res.detail
    assert "14 points short" in res.detail
    assert res.evidence == [2.0, 2.1, 2.2]


def test_no_requests_fails() -> None:
    res = check(spec(), backend_system().request(1.0, "other").teardown(6.0).history())
    assert res.verdict is Verdict.FAIL
    assert "no requests were recorded" in res.detail


def test_requests_after_teardown_began_are_left_out() -> None:
    story = backend_system().request(1.0).teardown(2.0).request(2.5, ok=False, status=None)
    assert check(spec(min="100%"), story.history()).verdict is Verdict.PASS


def test_during_faults_counts_from_the_first_fault() -> None:
    story = backend_system().request(0.8, ok=False, status=500).kill(1.0, 101).request(1.2)
    res = check(spec(min="100%", during="faults"), story.teardown(6.0).history())
    assert res.verdict is Verdict.PASS
    assert res.metrics["requests"] == 1
    res = check(spec(min="100%", during="faults"), backend_system().request(1.0).history())
    assert res.verdict is Verdict.FAIL
    assert "no fault was recorded" in res.detail

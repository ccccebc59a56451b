"""``log``: patterns absent from or present in the system's output."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from timelines import backend_system

from harness.invariants.log import LogSpec, check
from harness.spec.verdict import Verdict


def test_absent_fails_listing_the_first_matches_with_their_time() -> None:
    story = (
        backend_system()
        .log(1.0, "listening")
        .log(2.5, "Module registration failed Error: Call timed out")
    )
    res = check(LogSpec(absent="Call timed out"), story.history())
    assert res.verdict is Verdict.FAIL
    assert "1 line(s) matched /Call timed out/: at 2.50s: 'Module registration" in res.detail
    assert res.evidence == [2.5]
    assert check(LogSpec(absent="panic"), story.history()).verdict is Verdict.PASS


def test_present_needs_one_match_on_the_chosen_stream() -> None:
    story = backend_system().log(1.0, "gave up: max restarts", stream="stderr")
    assert check(LogSpec(present="gave up"), story.history()).verdict is Verdict.PASS
    res = check(LogSpec(present="gave up", stream="stdout"), story.history())
    assert res.verdict is Verdict.FAIL
    assert "none of 0 line(s) matched /gave up/" in res.detail


def test_a_spec_needs_a_valid_pattern() -> None:
    with pytest.raises(ValidationError, match="absent or present"):
        LogSpec()
    with pytest.raises(ValidationError, match="regular expression"):
        LogSpec(absent="[")

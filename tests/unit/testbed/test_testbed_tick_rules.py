"""Restarts on a tick (``--restart-tick``): when the next check is, and which deaths the
``tick-drop`` bug loses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.testbed.bugs import BUGS, parse_bugs
from harness.testbed.cli import options_from, parser
from harness.testbed.ticks import dropped, due, next_tick


@pytest.mark.parametrize(
    ("now", "expected"),
    [(100.0, 101.0), (100.2, 101.0), (100.99, 101.0), (101.0, 102.0), (104.5, 105.0)],
)
def test_the_next_check_is_the_first_tick_after_now(now: float, expected: float) -> None:
    assert next_tick(100.0, 1.0, now) == pytest.approx(expected)


@given(
    anchor=st.floats(0, 1e6),
    period=st.floats(0.01, 10),
    since=st.floats(0, 1e4),
)
def test_the_next_check_is_within_one_period_and_on_the_grid(
    anchor: float, period: float, since: float
) -> None:
    now = anchor + since
    tick = next_tick(anchor, period, now)
    assert now < tick + 1e-6
    assert tick - now <= period + 1e-6
    k = round((tick - anchor) / period)
    assert k >= 1
    assert tick == pytest.approx(anchor + k * period, rel=1e-9, abs=1e-6)


def test_a_restart_is_due_at_the_first_check_after_its_time() -> None:
    assert not due(None, 5.0)
    assert due(4.0, 5.0)
    assert not due(5.5, 5.0)


def test_tick_drop_loses_only_deaths_in_the_second_half_of_a_period() -> None:
    # A check at 10.0 with a 1 s period: died at 9.2 (0.8 s before) is restarted; died at
    # 9.6 (0.4 s before) is taken for a stop in progress.
    assert not dropped(9.2, 10.0, 1.0)
    assert dropped(9.6, 10.0, 1.0)
    assert not dropped(9.5, 10.0, 1.0)


def test_the_option_and_the_bug_are_wired() -> None:
    assert "tick-drop" in BUGS
    assert parse_bugs("tick-drop") == frozenset({"tick-drop"})
    args = parser().parse_args(["--restart-tick", "500ms", "--bugs", "tick-drop"])
    options = options_from(args)
    assert options.restart_tick_s == 0.5
    assert options.bug("tick-drop")
    assert options_from(parser().parse_args([])).restart_tick_s == 0.0

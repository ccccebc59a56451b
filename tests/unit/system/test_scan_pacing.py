"""The tracker's schedule on a hand-driven clock: fast while hot, slow when idle, skips."""

from __future__ import annotations

import pytest

from harness.system.pacing import FULL_SCAN_EVERY_S, ScanPacer


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _pacer(clock: Clock) -> ScanPacer:
    return ScanPacer(
        scan_interval=0.005,
        idle_scan_interval=0.025,
        hot_for=2.0,
        port_interval=0.25,
        idle_port_interval=2.0,
        clock=clock,
    )


def test_hot_at_start_then_idle_then_hot_again_after_heat() -> None:
    clock = Clock()
    pace = _pacer(clock)
    assert pace.is_hot()
    pace.scanned()
    assert pace.wait_s(clock.now) == 0.0, "the first port scan is due at once"
    pace.ports_scanned()
    assert pace.wait_s(clock.now) == pytest.approx(0.005)
    clock.now += 2.0
    assert not pace.is_hot()
    pace.scanned()
    pace.ports_scanned()
    assert pace.wait_s(clock.now) == pytest.approx(0.025)
    assert not pace.ports_due(clock.now + 1.9)
    assert pace.ports_due(clock.now + 2.0)
    assert pace.heat(), "heat brings a slow scan forward (so the tracker must be woken)"
    assert pace.is_hot()
    assert pace.wait_s(clock.now) == pytest.approx(0.005)
    assert not pace.heat(), "already due sooner: nothing to bring forward"


def test_a_due_scan_is_skipped_while_no_pid_was_handed_out() -> None:
    clock = Clock()
    pace = _pacer(clock)
    assert pace.worth_scanning(clock.now, last_pid=500, pending=False)
    assert not pace.worth_scanning(clock.now + 0.01, last_pid=500, pending=False)
    assert pace.worth_scanning(clock.now + 0.02, last_pid=501, pending=False), "a new pid"
    assert pace.worth_scanning(clock.now + 0.03, last_pid=501, pending=True), "execs pending"
    later = clock.now + 0.03 + FULL_SCAN_EVERY_S
    assert pace.worth_scanning(later, last_pid=501, pending=False), "the periodic backstop"
    assert pace.worth_scanning(later, last_pid=None, pending=False), "no loadavg: always scan"


def test_heat_brings_an_idle_port_scan_forward_too() -> None:
    """A process that starts while the ports are on their idle schedule must have its
    socket read within the hot port interval, not up to 2 s later (a supervisord
    replacement listened and was killed again before its port was ever read)."""
    clock = Clock()
    pace = _pacer(clock)
    clock.now += 3.0  # idle
    pace.ports_scanned()
    assert not pace.ports_due(clock.now + 1.0)
    pace.heat()  # a process started
    assert not pace.ports_due(clock.now + 0.2)
    assert pace.ports_due(clock.now + 0.25)

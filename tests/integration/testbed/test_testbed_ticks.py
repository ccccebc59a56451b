"""``--restart-tick``: a dead child waits for the next check, counted from ready; with
``tick-drop``, a death in the second half of a tick is never restarted."""

from __future__ import annotations

import re
import time

import pytest
from support import wait_until
from testbed_helpers import Factory

pytestmark = pytest.mark.integration

PERIOD = 1.0


def _kill_at_phase(bed: object, ready: float, phase: float) -> tuple[int, float]:
    """Kill the backend ``phase`` of a period into the first whole tick after ready."""
    when = ready + PERIOD + phase
    time.sleep(max(0.0, when - time.monotonic()))  # the fault's moment, not a wait for a state
    killed = time.monotonic()
    return bed.kill_child("backend"), killed  # type: ignore[attr-defined]


def _spawned_at(log: str, pid: int) -> float:
    found = re.findall(r"spawned backend pid (\d+) \(t=([\d.]+)\)", log)
    return next(float(t) for p, t in found if int(p) == pid)


def test_a_dead_child_is_restarted_at_the_next_check(testbed: Factory) -> None:
    bed = testbed("--modules", "0", "--workers", "0", "--restart-tick", f"{PERIOD}s")
    ready = time.monotonic()  # the ticks count from the ready line, a few ms before this
    old, killed = _kill_at_phase(bed, ready, 0.3)
    new = bed.wait_slot("backend", "replaced", lambda s: s["pid"] not in (None, old))
    spawned = _spawned_at(bed.log(), int(new["pid"]))
    check = ready + 2 * PERIOD
    # Not at once: at the check that follows the death (ticks are at ready + k periods).
    assert spawned - killed > 0.5
    # At that check, not one later (a slow machine may wake it a little late).
    assert check - 0.1 <= spawned <= check + 0.6 * PERIOD, (spawned - ready, bed.log())


@pytest.mark.parametrize(("phase", "lost"), [(0.2, False), (0.75, True)])
def test_tick_drop_loses_a_death_in_the_second_half_of_a_tick(
    testbed: Factory, phase: float, lost: bool
) -> None:
    bed = testbed(
        "--modules", "0", "--workers", "0", "--restart-tick", f"{PERIOD}s", "--bugs", "tick-drop"
    )  # fmt: skip
    ready = time.monotonic()
    old, _ = _kill_at_phase(bed, ready, phase)
    if not lost:
        bed.wait_slot("backend", "replaced", lambda s: s["pid"] not in (None, old))
        assert "not restarted" not in bed.log()
        return
    wait_until(lambda: "not restarted" in bed.log(), what="the check to drop the restart")
    before = re.search(r"backend died ([\d.]+)s before the check", bed.log())
    assert before, bed.log()
    # Killed 0.75 into the tick: 0.25 s before the check, less if the kill came late on a
    # loaded machine; in the second half of the tick either way.
    assert 0.0 < float(before.group(1)) < 0.5 * PERIOD
    entry = bed.slot("backend")
    assert (entry["state"], entry["pid"], entry["restarts"]) == ("crashed", old, 1)

"""Restarts on a tick (``--restart-tick 1s``): a dead child is replaced at the next check.

Circus checks its watchers on a fixed period counted from its own start, and only a check
spawns replacements; this mode does the same, its ticks counted from the moment the
supervisor announced it was ready. A fault at a fixed time after ready therefore lands at
the same phase of the tick in every trial: only jitter samples the other phases.

The ``tick-drop`` bug: a check that finds a child dead for less than half a period takes it
for one still being stopped on purpose and drops its restart: it is never replaced. Only
deaths in the second half of a tick period are lost, so a kill at a fixed time escapes or
is caught in every trial alike.

Pure functions of the clock readings the supervisor passes; the supervisor keeps the state.
"""

from __future__ import annotations

import math


def next_tick(anchor: float, period: float, now: float) -> float:
    """The first tick after ``now`` (ticks at ``anchor + k * period``, k >= 1)."""
    k = max(1, math.floor((now - anchor) / period) + 1)
    return anchor + k * period


def due(restart_at: float | None, now: float) -> bool:
    """Whether a pending restart may happen at the check at ``now``."""
    return restart_at is not None and restart_at <= now


def dropped(died_at: float, now: float, period: float) -> bool:
    """The ``tick-drop`` bug's mistake: dead for less than half a period at the check."""
    return now - died_at < period / 2

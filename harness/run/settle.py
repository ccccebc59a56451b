"""The end of a trial's observation, before teardown: what the checkers will need.

Traffic stops (in-flight answers get the time the trial has left, within bounds), every
probe takes its final reading, and each invariant that needs an end-of-trial observation
(the ledger's lookups) makes it now, while the system still runs; their ``settle`` windows
all count from the moment traffic stopped. What they observe is
recorded on the timeline; a collector that breaks is a harness error on the record.
"""

from __future__ import annotations

import time

from harness.invariants.registry import INVARIANTS
from harness.observe.events import NoteLevel
from harness.run.system import RunningSystem

_DRAIN_MIN_S = 0.5
_DRAIN_MAX_S = 10.0


def settle(system: RunningSystem) -> None:
    """Stop traffic, take the final probe readings and the invariants' end observations."""
    system.phase("settle")
    left = system.deadline - time.monotonic() - system.teardown_budget()
    system.traffic.stop(drain=max(_DRAIN_MIN_S, min(_DRAIN_MAX_S, left)))
    system.ctx.settle_started = time.monotonic()
    system.traffic.final_readings()
    for entry in system.scenario.invariants:
        checker = INVARIANTS.get(entry.kind)
        if not checker.collects:
            continue
        try:
            checker.observe_end(entry.spec, system.ctx)
        except Exception as exc:
            system.note(NoteLevel.ERROR, f"{entry.kind} end observation failed: {exc!r}")

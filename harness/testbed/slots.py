"""A supervised slot (``backend``, ``m0``, ``w1``...) and how its state is reported.

The report is derived from the slot, never stored beside it, so it can only be as wrong
as the supervisor's own beliefs (which is exactly what the module bugs corrupt).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from harness.testbed.children import Child
from harness.testbed.loop import Timer
from harness.testbed.policy import Phase, SlotState

ROLE_MODULES = {"backend": "backend", "module": "module", "worker": "worker"}

MODULE_STATES = {
    Phase.STARTING: "initializing",
    Phase.READY: "ok",
    Phase.CRASHED: "crashed",
    Phase.FAILED: "failed",
    Phase.STOPPED: "stopped",
}
PROCESS_STATES = {
    Phase.STARTING: "starting",
    Phase.READY: "running",
    Phase.CRASHED: "crashed",
    Phase.FAILED: "failed",
    Phase.STOPPED: "stopped",
}


@dataclass
class Slot:
    """One named child position and everything the supervisor believes about it."""

    name: str
    role: str  # backend | module | worker
    state: SlotState
    child: Child | None = None
    registered: bool = False  # modules: registration answered for the current child
    listener_removed: bool = False  # bug exit-listener-removed: exits no longer reported
    hidden: list[Child] = field(default_factory=list)  # silently respawned children
    restart_timer: Timer | None = None
    restart_at: float | None = None  # tick mode: a restart waiting for a check from then
    died_at: float | None = None  # tick mode: when the child that awaits a restart died
    register_timer: Timer | None = None
    process_id: int | None = None  # workers: row in the processes table
    pruned: bool = False  # workers: jobs already failed by the freeze check
    port: int | None = None  # backend
    gave_up: str | None = None

    @property
    def phase(self) -> Phase:
        """The restart policy's phase."""
        return self.state.phase

    def alive(self) -> bool:
        """A current child that has not been reaped."""
        return self.child is not None and self.child.exit_code is None

    def report_state(self) -> str:
        """The state shown in /status."""
        if self.role == "module":
            if self.registered and self.phase in (Phase.STARTING, Phase.READY):
                return "ok"
            return MODULE_STATES[self.phase]
        return PROCESS_STATES[self.phase]

    def healthy(self) -> bool:
        """Counts towards readiness, as far as the supervisor believes.

        With ``exit-listener-removed`` the supervisor never learns of the exit, so it keeps
        believing the dead child is healthy: that false belief is the bug.
        """
        return self.phase is Phase.READY and (self.alive() or self.listener_removed)

    def report(self) -> dict[str, Any]:
        """The slot's /status entry."""
        out: dict[str, Any] = {
            "state": self.report_state(),
            "pid": self.child.pid if self.child is not None else None,
            "restarts": self.state.restarts,
        }
        if self.gave_up:
            out["reason"] = self.gave_up
        if self.role == "backend":
            out["port"] = self.port
        if self.role == "worker":
            age = None
            if self.child is not None and self.alive():
                age = round(time.monotonic() - self.child.last_hb, 3)
            out["last_heartbeat_age_s"] = age
            out["process_id"] = self.process_id
        return out

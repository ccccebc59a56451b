"""``kill``: send a signal (SIGKILL by default) to processes of a role.

The most common real fault of the incidents: a backend, module or worker force-killed from
outside. Another signal (``SIGTERM`` for a graceful stop) is the same fault with another
``signal``, so there is no separate ``signal`` kind.
"""

from __future__ import annotations

import signal as _signal

from pydantic import field_validator

from harness.faults.base import FaultContext, FaultKind
from harness.faults.targets import TargetSpec, choose, record_action, record_miss
from harness.spec.kinds import FaultSpec
from harness.spec.signals import Signal, signal_name
from harness.system.process import TrackedProcess

_STOPS = frozenset(
    int(s) for s in (_signal.SIGSTOP, _signal.SIGTSTP, _signal.SIGTTIN, _signal.SIGTTOU)
)


class KillSpec(TargetSpec):
    """``kill: {role, signal: SIGKILL, count: 1, which: random, instance?}``."""

    signal: Signal = int(_signal.SIGKILL)

    @field_validator("signal")
    @classmethod
    def _not_a_stop(cls, value: int) -> int:
        if value in _STOPS:
            raise ValueError(
                f"{signal_name(value)} would leave the process stopped for good; "
                "use the freeze fault (SIGSTOP, then SIGCONT)"
            )
        return value


def inject(spec: FaultSpec, ctx: FaultContext, index: int, spawned: TrackedProcess | None) -> None:
    """Signal the chosen processes; record who was hit and who was already gone."""
    assert isinstance(spec, KillSpec)
    targets, reason = choose(spec, ctx, spawned)
    role = spawned.role if spawned is not None else spec.role
    if reason is not None:
        record_miss(ctx, index, "kill", reason, role)
        return
    hit = [p for p in targets if ctx.signal(p, spec.signal)]
    gone = [p.pid for p in targets if p not in hit]
    if not hit:
        record_miss(ctx, index, "kill", f"every target had exited already: {gone}", role)
        return
    detail: dict[str, object] = {"signal": signal_name(spec.signal)}
    if gone:
        detail["gone"] = gone
    record_action(ctx, index, "kill", "instant", role, hit, detail)


KIND = FaultKind("kill", KillSpec, inject)

"""``kill``: send a signal (SIGKILL by default) to processes of a role.

The most common real fault of the incidents: a backend, module or worker force-killed from
outside. Another signal (``SIGTERM`` for a graceful stop) is the same fault with another
``signal``, so there is no separate ``signal`` kind. A signal whose default action ends a
process is recorded as ending it; one that is ignored by default (``SIGCHLD``, ``SIGWINCH``,
``SIGURG``) ends nothing, so no checker waits for a recovery from it.
"""

from __future__ import annotations

import signal as _signal

from pydantic import field_validator

from harness.faults.base import FaultContext, FaultKind, Firing
from harness.faults.targets import TargetSpec, choose, record_action, record_miss, target_role
from harness.observe.events import FaultPhase
from harness.spec.effects import Effect
from harness.spec.signals import Signal, signal_name

_STOPS = frozenset(
    int(s) for s in (_signal.SIGSTOP, _signal.SIGTSTP, _signal.SIGTTIN, _signal.SIGTTOU)
)
_HARMLESS = frozenset(
    int(s) for s in (_signal.SIGCHLD, _signal.SIGCONT, _signal.SIGURG, _signal.SIGWINCH)
)
"""Signals whose default action is to do nothing (or to continue): they end no process."""


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


def effect_of(signum: int) -> Effect:
    """A signal that ends a process by default ``ENDS`` it; a harmless one does nothing."""
    return Effect.NONE if signum in _HARMLESS else Effect.ENDS


def inject(spec: KillSpec, ctx: FaultContext, firing: Firing) -> None:
    """Signal the chosen processes; record who was hit and who was already gone."""
    effect = effect_of(spec.signal)
    targets, reason = choose(spec, ctx, firing)
    role = target_role(spec, firing)
    if reason is not None:
        record_miss(ctx, firing.index, "kill", reason, role, effect=effect)
        return
    hit = [p for p in targets if ctx.signal(p, spec.signal)]
    gone = [p.pid for p in targets if p not in hit]
    if not hit:
        reason = f"every target had exited already: {gone}"
        record_miss(ctx, firing.index, "kill", reason, role, effect=effect)
        return
    detail: dict[str, object] = {"signal": signal_name(spec.signal)}
    if gone:
        detail["gone"] = gone
    record_action(ctx, firing.index, "kill", FaultPhase.INSTANT, role, hit, detail, effect=effect)


KIND = FaultKind("kill", KillSpec, inject, effects=frozenset({Effect.ENDS, Effect.NONE}))

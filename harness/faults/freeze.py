"""``freeze``: SIGSTOP processes of a role, then SIGCONT them after ``for``.

A frozen process keeps its pid, sockets and locks but answers nothing: the shape of a hung
backend or a child too slow to register. A frozen process must never outlive the trial in
that state, so the thaw runs at ``for`` or at teardown, whichever comes first, exactly once.
"""

from __future__ import annotations

import signal as _signal

from pydantic import ConfigDict, Field

from harness.faults.base import FaultContext, FaultKind, Firing
from harness.faults.once import Once
from harness.faults.targets import TargetSpec, choose, record_action, record_miss, target_role
from harness.observe.events import FaultPhase
from harness.spec.effects import Effect
from harness.spec.units import Duration
from harness.system.process import TrackedProcess


class FreezeSpec(TargetSpec):
    """``freeze: {role, for: 2s, count: 1, which: random, instance?}``."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    for_: Duration = Field(alias="for")


def inject(spec: FreezeSpec, ctx: FaultContext, firing: Firing) -> None:
    """Stop the chosen processes now and schedule their thaw."""
    index = firing.index
    targets, reason = choose(spec, ctx, firing)
    role = target_role(spec, firing)
    if reason is None:
        targets = [p for p in targets if not p.frozen]
        if not targets:
            reason = "every target is frozen already"
    if reason is not None:
        record_miss(ctx, index, "freeze", reason, role, effect=Effect.STOPS)
        return
    frozen: list[TrackedProcess] = []
    for process in targets:
        if ctx.signal(process, _signal.SIGSTOP):
            process.frozen = True
            frozen.append(process)
    if not frozen:
        record_miss(
            ctx, index, "freeze", "every target had exited already", role, effect=Effect.STOPS
        )
        return
    detail: dict[str, object] = {"for_s": spec.for_}
    record_action(ctx, index, "freeze", FaultPhase.START, role, frozen, detail, effect=Effect.STOPS)

    def thaw() -> None:
        thawed: list[int] = []
        gone: list[int] = []
        for process in frozen:
            (thawed if ctx.signal(process, _signal.SIGCONT) else gone).append(process.pid)
            process.frozen = False
        detail: dict[str, object] = {"early": ctx.stopping.is_set()}
        if gone:
            detail["gone"] = gone
        record_action(
            ctx,
            index,
            "freeze",
            FaultPhase.END,
            role,
            frozen,
            detail,
            pids=thawed,
            effect=Effect.RESUMES,
        )

    once = Once(thaw)
    ctx.on_teardown(once)
    ctx.later(spec.for_, once)


KIND = FaultKind("freeze", FreezeSpec, inject, effects=frozenset({Effect.STOPS, Effect.RESUMES}))

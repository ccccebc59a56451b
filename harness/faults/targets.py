"""Choosing the processes a fault acts on: ``role``, ``count``, ``which``, ``instance``.

Shared by ``kill`` and ``freeze`` so both read the same options the same way. The choice is
reproducible: candidates are ordered by (first seen, pid) before ``which: random`` draws
from the trial's seeded ``rng``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from harness.faults.base import FaultContext, Firing
from harness.observe.events import FaultAction, FaultPhase
from harness.observe.unnamed import unnamed_listing
from harness.spec.effects import Effect
from harness.spec.kinds import FaultSpec
from harness.system.process import TrackedProcess

Which = Literal["random", "oldest", "newest"]


class TargetSpec(FaultSpec):
    """Which processes of a role to act on.

    ``role`` may be left out only for a trigger that names the process (``on_spawn``, or
    ``on_log`` with a ``pid`` group), which is then the target.
    """

    role: str | None = None
    count: Annotated[int, Field(ge=1)] | Literal["all"] = 1
    which: Which = "random"
    instance: Annotated[int, Field(ge=0)] | None = None

    @field_validator("count", mode="before")
    @classmethod
    def _count(cls, value: Any) -> Any:
        if value == "all":
            return value
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"expected a number of processes (1 or more) or 'all', got {value!r}")
        return value


def choose(
    spec: TargetSpec, ctx: FaultContext, firing: Firing
) -> tuple[list[TrackedProcess], str | None]:
    """The processes to act on, or ``([], reason)`` when there is none."""
    spawned = firing.spawned
    if spawned is not None:
        if not spawned.alive:
            return [], f"spawned process {spawned.pid} already exited"
        return [spawned], None
    if spec.role is None:
        return (
            [],
            "no role given (a role is required unless the trigger names the process: "
            "on_spawn, or on_log with a pid group)",
        )
    candidates = [p for p in ctx.processes(spec.role, spec.instance) if p.alive]
    if not candidates:
        where = "" if spec.instance is None else f" in instance {spec.instance}"
        unnamed = [(p.pid, p.cmdline) for p in ctx.processes(None, spec.instance) if p.role is None]
        return [], f"no live process of role {spec.role!r}{where}{unnamed_listing(unnamed)}"
    candidates.sort(key=lambda p: (p.started, p.pid))
    wanted = len(candidates) if spec.count == "all" else min(spec.count, len(candidates))
    if spec.which == "oldest":
        return candidates[:wanted], None
    if spec.which == "newest":
        return list(reversed(candidates))[:wanted], None
    return ctx.rng.sample(candidates, wanted), None


def common_instance(processes: Sequence[TrackedProcess]) -> int | None:
    """The instance every process belongs to, or ``None`` when they span several."""
    instances = {p.instance for p in processes}
    return instances.pop() if len(instances) == 1 else None


def target_role(spec: TargetSpec, firing: Firing) -> str | None:
    """The role an action is recorded under: the spawned process's, else the spec's."""
    return firing.spawned.role if firing.spawned is not None else spec.role


def record_miss(
    ctx: FaultContext,
    index: int,
    kind: str,
    reason: str,
    role: str | None = None,
    *,
    effect: Effect = Effect.NONE,
) -> None:
    """A fault that found nothing to act on: on the record, never silent. ``effect`` is
    what it meant to do, so a checker can say "the kill found no process"."""
    record_action(ctx, index, kind, FaultPhase.MISS, role, [], {"reason": reason}, effect=effect)


def record_action(
    ctx: FaultContext,
    index: int,
    kind: str,
    phase: FaultPhase,
    role: str | None,
    processes: Sequence[TrackedProcess],
    detail: dict[str, object],
    pids: Sequence[int] | None = None,
    *,
    effect: Effect = Effect.NONE,
) -> None:
    """What a fault did to which processes (``pids`` when not all of ``processes``)."""
    ctx.timeline.record(
        FaultAction(
            t=ctx.timeline.now(),
            fault=index,
            kind=kind,
            phase=phase,
            effect=effect,
            role=role,
            pids=list(pids) if pids is not None else [p.pid for p in processes],
            instance=common_instance(processes),
            detail=detail,
        )
    )

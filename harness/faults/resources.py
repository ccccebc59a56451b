"""Resource faults on processes of a role: a memory limit, a CPU throttle, a pids limit.

``- {at: 1s, memory_limit: {role: worker, limit: 16MiB, for: 2s}}``: each chosen process
(``count``/``which``/``instance`` as for ``kill``) is moved into a cgroup of its own whose
memory limit is ``limit``; what it allocates from then on counts against it, and the
kernel OOM-kills it past the limit. ``cpu_throttle: {role, percent: 10, for}`` gives each
one ``percent`` of one core (CFS quota over a 100 ms period); ``pids_limit: {role, max: 4,
for}`` caps the tasks (processes and threads) of its group, so ``fork`` and thread starts
fail with EAGAIN beyond it. Without ``for``, until teardown. At the end every process (and
what it forked meanwhile) is moved back and the group removed (``harness.system.limits``:
cgroup v2 where the controller is enabled there, else the v1 hierarchy). A target that has
exited is a miss, never moved by its pid; so is a second limit on a process (v2: any kind,
v1: the same controller).

Every application and removal is a ``FaultAction`` (effect ``none``: a limit by itself
does nothing to a process). A kill by the OOM killer is seen in the group's ``oom_kill``
count (``memory.events`` v2, ``memory.oom_control`` v1) and recorded as an ``instant``
action with effect ``ends`` naming the killed pids (``detail.cause: oom_kill``), plus a
note: ``recovers`` and ``restarts`` judge it as any other death a fault caused.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from pydantic import ConfigDict, Field

from harness.faults.base import FaultContext, FaultKind, Firing
from harness.faults.once import Once
from harness.faults.targets import TargetSpec, choose, record_action, record_miss, target_role
from harness.observe.events import FaultPhase, HarnessNote, NoteLevel
from harness.spec.effects import Effect
from harness.spec.sizes import Size
from harness.spec.units import Duration
from harness.system import host, limits, procfs
from harness.system.limits import Controller, LimitGroup
from harness.system.process import TrackedProcess

FAMILY = "resources"
OOM_POLL_S = 0.01
"""How often a memory limit's ``oom_kill`` count is read while it is on."""


class _ResourceSpec(TargetSpec):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    for_: Duration | None = Field(default=None, alias="for")
    """How long; without it, until teardown."""


class MemoryLimitSpec(_ResourceSpec):
    """``memory_limit: {role, limit: 16MiB, for?, count: 1, which: random, instance?}``."""

    limit: Annotated[Size, Field(ge=1 << 20)]


class CpuThrottleSpec(_ResourceSpec):
    """``cpu_throttle: {role, percent: 10, for?, ...}``: percent of one core."""

    percent: Annotated[int, Field(ge=1, le=6400)]


class PidsLimitSpec(_ResourceSpec):
    """``pids_limit: {role, max: 4, for?, ...}``: tasks in each process's group."""

    max: Annotated[int, Field(ge=1)]


@dataclass(frozen=True)
class _Resource:
    kind: str
    controller: Controller
    intent: Effect

    def value(self, spec: _ResourceSpec) -> int:
        if isinstance(spec, MemoryLimitSpec):
            return spec.limit
        if isinstance(spec, CpuThrottleSpec):
            return spec.percent
        assert isinstance(spec, PidsLimitSpec)
        return spec.max


def hierarchy(controller: Controller) -> limits.Backend | str:
    """The hierarchy a run would use for ``controller`` now, or why there is none."""
    choice = host.containment()
    parent = choice.parent if choice.mode is host.Containment.CGROUP else None
    return limits.backend_for(controller, parent)


def _available(controller: Controller) -> Callable[[], str | None]:
    def check() -> str | None:
        found = hierarchy(controller)
        return found if isinstance(found, str) else None

    return check


def _alive(pid: int) -> bool:
    return procfs.state(pid) not in (None, "Z", "X")


class _OomWatch:
    """A thread reading each group's ``oom_kill`` count until stopped; records each kill."""

    def __init__(
        self,
        ctx: FaultContext,
        firing: Firing,
        role: str | None,
        groups: list[tuple[TrackedProcess, LimitGroup]],
        limit: int,
    ) -> None:
        self._ctx, self._firing, self._role = ctx, firing, role
        self._groups = groups
        self._limit = limit
        self._seen = {id(g): set(g.pids()) for _, g in groups}
        self._pending = {id(g): 0 for _, g in groups}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chaos-oom-watch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(OOM_POLL_S):
            self.look()

    def look(self, last: bool = False) -> None:
        """Read each group's count; a kill whose victim is not gone yet is looked at
        again next time (the count can rise a moment before the task leaves)."""
        for process, group in self._groups:
            key = id(group)
            before = self._seen[key]
            fresh = group.new_oom_kills() + self._pending[key]
            self._seen[key] = set(group.pids()) | {p for p in before if _alive(p)}
            if not fresh:
                continue
            gone = sorted(p for p in before if not _alive(p))
            if not gone and not _alive(process.pid):
                gone = [process.pid]
            if gone or last:
                self._pending[key] = 0
                self._seen[key] -= set(gone)
                self._record(process, group, fresh, gone)
            else:
                self._pending[key] = fresh

    def _record(
        self, process: TrackedProcess, group: LimitGroup, fresh: int, gone: list[int]
    ) -> None:
        ctx = self._ctx
        detail: dict[str, object] = {
            "cause": "oom_kill",
            "oom_kills": fresh,
            "limit_bytes": self._limit,
            "cgroup": str(group.path),
        }
        record_action(
            ctx,
            self._firing.index,
            "memory_limit",
            FaultPhase.INSTANT,
            self._role,
            [process],
            detail,
            pids=gone,
            effect=Effect.ENDS,
        )
        who = ", ".join(str(p) for p in gone) or "a process"
        ctx.timeline.record(
            HarnessNote(
                t=ctx.timeline.now(),
                level=NoteLevel.WARNING,
                message=(
                    f"memory_limit: the kernel OOM-killed {who} (role {self._role}) at the"
                    f" limit of {self._limit} bytes"
                ),
            )
        )

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)
        self.look(last=True)  # a kill in the last slice


def _holds(ctx: FaultContext, process: TrackedProcess) -> Callable[[], bool]:
    """Signal 0 through the trial's tracker: true while the process holds its pid."""

    def holds() -> bool:
        return ctx.signal(process, 0)

    return holds


def _warn(ctx: FaultContext, kind: str, warnings: list[str]) -> None:
    """A warning note for each thing a move could not be sure of (a pid that changed
    hands), or for a group left behind."""
    for warning in warnings:
        ctx.timeline.record(
            HarnessNote(t=ctx.timeline.now(), level=NoteLevel.WARNING, message=f"{kind}: {warning}")
        )


def _inject(resource: _Resource, spec: _ResourceSpec, ctx: FaultContext, firing: Firing) -> None:
    kind = resource.kind
    targets, reason = choose(spec, ctx, firing)
    role = target_role(spec, firing)
    if reason is not None:
        record_miss(ctx, firing.index, kind, reason, role, effect=resource.intent)
        return
    trial = ctx.limits()
    backend = trial.backend(resource.controller)
    if isinstance(backend, str):
        record_miss(ctx, firing.index, kind, backend, role, effect=resource.intent)
        return
    value = resource.value(spec)
    groups: list[tuple[TrackedProcess, LimitGroup]] = []
    problems: list[str] = []
    for process in targets:
        name = f"f{firing.index}-p{process.pid}"
        try:
            group = trial.open(resource.controller, name, process, _holds(ctx, process))
        except OSError as exc:
            problems.append(f"pid {process.pid}: {exc.strerror or exc}")
            continue
        try:
            refused = group.apply(value)
        except OSError as exc:
            refused = f"pid {process.pid}: {exc.strerror or exc}"
        _warn(ctx, kind, group.warnings())
        if refused is not None:
            problems.append(refused)
            _warn(ctx, kind, group.release() + group.warnings())  # the move back's too
            continue
        groups.append((process, group))
    if not groups:
        why = "; ".join(problems) or "every target had exited already"
        record_miss(ctx, firing.index, kind, why, role, effect=resource.intent)
        return
    moved = [p for p, _ in groups]
    detail: dict[str, object] = {
        "controller": str(resource.controller),
        "cgroup_version": backend.version,
        "value": value,
        "for_s": spec.for_,
    }
    if problems:
        detail["refused"] = problems
    record_action(ctx, firing.index, kind, FaultPhase.START, role, moved, detail)
    watch = (
        _OomWatch(ctx, firing, role, groups, value)
        if resource.controller is Controller.MEMORY
        else None
    )

    def release() -> None:
        if watch is not None:
            watch.stop()
        end: dict[str, object] = {"early": ctx.stopping.is_set()}
        used = {str(p.pid): u for p, g in groups if (u := g.usage())}
        if used:
            end["usage"] = used
        left: list[str] = []
        for _, group in groups:
            left += group.release()
            warned = group.warnings()
            _warn(ctx, kind, warned)
            left += warned
        if left:
            end["problems"] = left
        record_action(ctx, firing.index, kind, FaultPhase.END, role, moved, end)

    once = Once(release)
    ctx.on_teardown(once)
    if spec.for_ is not None:
        ctx.later(spec.for_, once)


def _kind(
    resource: _Resource, spec: type[_ResourceSpec], effects: frozenset[Effect]
) -> FaultKind[_ResourceSpec]:
    def inject(options: _ResourceSpec, ctx: FaultContext, firing: Firing) -> None:
        _inject(resource, options, ctx, firing)

    return FaultKind(
        resource.kind,
        spec,
        inject,
        effects=effects,
        family=FAMILY,
        available=_available(resource.controller),
    )


MEMORY = _Resource("memory_limit", Controller.MEMORY, Effect.ENDS)
CPU = _Resource("cpu_throttle", Controller.CPU, Effect.NONE)
PIDS = _Resource("pids_limit", Controller.PIDS, Effect.NONE)

MEMORY_LIMIT = _kind(MEMORY, MemoryLimitSpec, frozenset({Effect.NONE, Effect.ENDS}))
"""``ends`` only for the OOM kills it records; applying the limit is ``none``."""
CPU_THROTTLE = _kind(CPU, CpuThrottleSpec, frozenset({Effect.NONE}))
PIDS_LIMIT = _kind(PIDS, PidsLimitSpec, frozenset({Effect.NONE}))
KINDS = (MEMORY_LIMIT, CPU_THROTTLE, PIDS_LIMIT)
CONTROLLERS = {k.name: r.controller for k, r in zip(KINDS, (MEMORY, CPU, PIDS), strict=True)}
"""Each kind's controller, for ``chaos doctor``."""

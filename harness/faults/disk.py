"""The disk faults: a scenario disk (``disks:``) full or read-only for ``for``, or until
teardown. Both need the disk mounted before the system started (see ``harness.disks``).

``- {at: 1s, disk_full: {disk: data, for: 2s}}``: a balloon file takes every free block, so
the system's next write that needs space fails with ENOSPC ("database or disk is full");
at the end the balloon is deleted. ``- {at: 1s, read_only: {disk: data, for: 2s}}``: every
open for writing, create, rename or delete under the disk fails with EROFS; a file the
system already holds open for writing keeps writing (measured and explained in
``harness.disks.disk``). Neither touches a byte the system wrote; no process is touched
(``Effect.NONE``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, ClassVar

from pydantic import ConfigDict, Field

from harness import disks as _disks
from harness.disks import Disk, DiskError
from harness.faults.base import FaultContext, FaultKind, Firing
from harness.faults.once import Once
from harness.faults.targets import record_miss
from harness.observe.events import FaultAction, FaultPhase
from harness.spec.effects import Effect
from harness.spec.kinds import FaultSpec
from harness.spec.units import Duration

FAMILY = "disk"


class DiskFaultSpec(FaultSpec):
    """``disk_full`` / ``read_only``: ``{disk, for?, instance: 0}``."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)
    not_templates: ClassVar[frozenset[str]] = frozenset({"disk"})

    disk: str
    for_: Duration | None = Field(default=None, alias="for")
    """How long; without it, until teardown."""
    instance: Annotated[int, Field(ge=0)] = 0


def _find(kind: str, spec: DiskFaultSpec, ctx: FaultContext, firing: Firing) -> Disk | None:
    try:
        return ctx.disk(spec.disk, spec.instance)
    except KeyError as exc:
        record_miss(ctx, firing.index, kind, str(exc.args[0]) if exc.args else str(exc))
        return None


def _record(
    ctx: FaultContext,
    firing: Firing,
    kind: str,
    phase: FaultPhase,
    spec: DiskFaultSpec,
    detail: dict[str, object],
) -> None:
    ctx.timeline.record(
        FaultAction(
            t=ctx.timeline.now(),
            fault=firing.index,
            kind=kind,
            phase=phase,
            effect=Effect.NONE,
            instance=spec.instance,
            detail={"disk": spec.disk, **detail},
        )
    )


def _until(ctx: FaultContext, spec: DiskFaultSpec, undo: Once) -> None:
    ctx.on_teardown(undo)
    if spec.for_ is not None:
        ctx.later(spec.for_, undo)


def inject_full(spec: DiskFaultSpec, ctx: FaultContext, firing: Firing) -> None:
    """Fill the disk now; delete the balloon after ``for`` or at teardown."""
    disk = _find("disk_full", spec, ctx, firing)
    if disk is None:
        return
    try:
        balloon = disk.fill()
    except (DiskError, OSError) as exc:
        record_miss(ctx, firing.index, "disk_full", f"disk {spec.disk!r}: {exc}")
        return
    detail: dict[str, object] = {
        "path": str(disk.path),
        "balloon_bytes": balloon.size,
        "free_before": balloon.free_before,
        "free_now": disk.usage().free,
    }
    _record(ctx, firing, "disk_full", FaultPhase.START, spec, detail)

    def release() -> None:
        disk.unfill()
        end: dict[str, object] = {"free_now": disk.usage().free, "early": ctx.stopping.is_set()}
        _record(ctx, firing, "disk_full", FaultPhase.END, spec, end)

    _until(ctx, spec, Once(release))


def inject_read_only(spec: DiskFaultSpec, ctx: FaultContext, firing: Firing) -> None:
    """Put the read-only bind on now; lift it after ``for`` or at teardown."""
    disk = _find("read_only", spec, ctx, firing)
    if disk is None:
        return
    try:
        disk.make_read_only()
    except (DiskError, OSError) as exc:
        record_miss(ctx, firing.index, "read_only", f"disk {spec.disk!r}: {exc}")
        return
    _record(ctx, firing, "read_only", FaultPhase.START, spec, {"path": str(disk.path)})

    def release() -> None:
        disk.make_writable()
        _record(ctx, firing, "read_only", FaultPhase.END, spec, {"early": ctx.stopping.is_set()})

    _until(ctx, spec, Once(release))


def _kind(
    name: str, inject: Callable[[DiskFaultSpec, FaultContext, Firing], None]
) -> FaultKind[DiskFaultSpec]:
    return FaultKind(
        name,
        DiskFaultSpec,
        inject,
        effects=frozenset({Effect.NONE}),
        refs={"disk": "disk"},
        family=FAMILY,
        available=_disks.available,
    )


DISK_FULL = _kind("disk_full", inject_full)
READ_ONLY = _kind("read_only", inject_read_only)

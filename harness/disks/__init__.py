"""Scenario disks: size-limited tmpfs folders the harness mounts before the system starts,
so faults can make them really full (ENOSPC) or read-only (EROFS) for a while.

``available`` is the seam ``chaos doctor`` asks: ``None`` when this host can mount them,
else why not (not root, no tmpfs, mounting refused in this container). ``DiskSet`` holds
one trial's disks and always unmounts them; ``mounts.sweep_orphans`` and
``mounts.unmount_owned_by`` clean up after a harness that was killed.
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from harness.disks.disk import BALLOON, Balloon, Disk, DiskError, Usage
from harness.disks.mounts import MountError, mount, source_name, sweep_orphans, umount

PROBE_SIZE = 1 << 16


@functools.cache
def available() -> str | None:
    """``None`` when this process can mount a tmpfs, else the reason (tried for real once)."""
    if os.geteuid() != 0:
        return f"needs root to mount a tmpfs (running as uid {os.geteuid()})"
    try:
        with open("/proc/filesystems", encoding="ascii") as handle:
            kinds = {line.split()[-1] for line in handle if line.strip()}
    except OSError as exc:
        return f"cannot read /proc/filesystems: {exc.strerror}"
    if "tmpfs" not in kinds:
        return "the kernel offers no tmpfs (not in /proc/filesystems)"
    with tempfile.TemporaryDirectory(prefix="chaos-disk-probe-") as folder:
        try:
            mount(source_name(), Path(folder), "tmpfs", 0, f"size={PROBE_SIZE}")
        except (MountError, OSError) as exc:
            return f"mounting a tmpfs is refused here: {exc}"
        umount(Path(folder))
    return None


class DiskSet:
    """One trial's disks by (name, instance); ``close`` unmounts every one, always."""

    def __init__(self) -> None:
        self._disks: dict[tuple[str, int], Disk] = {}
        self._all: list[Disk] = []

    def add(self, name: str, instances: Iterable[int], path: Path, size: int) -> Disk:
        """Mount one disk at ``path``, serving ``instances`` (several when they share it)."""
        disk = Disk(name, path, size)
        disk.mount()
        self._all.append(disk)
        for instance in instances:
            self._disks[(name, instance)] = disk
        return disk

    def get(self, name: str, instance: int = 0) -> Disk:
        try:
            return self._disks[(name, instance)]
        except KeyError:
            known = ", ".join(sorted({n for n, _ in self._disks})) or "none"
            raise KeyError(
                f"no disk {name!r} for instance {instance} (declared: {known})"
            ) from None

    def close(self, keep: bool = False) -> list[str]:
        """Unmount every disk (last mounted first); the problems, in words."""
        problems: list[str] = []
        for disk in reversed(self._all):
            problems += disk.close(keep)
        self._all.clear()
        self._disks.clear()
        return problems


__all__ = [
    "BALLOON",
    "Balloon",
    "Disk",
    "DiskError",
    "DiskSet",
    "Usage",
    "available",
    "sweep_orphans",
]

"""One scenario disk: a size-limited tmpfs mounted on a trial folder before the system starts.

Why before: a process that already has a file open keeps writing to the filesystem it
opened it on, whatever is mounted over the folder later. A disk the scenario declares is
the system's filesystem from its first write, so:

- ``fill`` makes it really full: a balloon file (``.chaos-balloon`` at its root) takes
  every free block; every write that needs a new block fails with ENOSPC (a write into the
  last, partly used block of a file may still succeed, as on any filesystem). ``release``
  deletes the balloon, and the space is back. Nothing else on the disk is touched.
- ``read_only`` puts a read-only bind of the disk on top of it: every open, create, rename
  or delete through the folder fails with EROFS. A file the system already holds open for
  writing keeps writing (the kernel refuses to remount a filesystem read-only while files
  are open for writing on it, and a bind made read-only later does not reach descriptors
  opened before it). ``release`` lifts the bind; the data is the same filesystem
  throughout, so nothing is copied and nothing is lost.

At the end of the trial the tmpfs is unmounted (lazily, if an escaped process still holds
a file on it); with ``keep`` its files are first copied into the folder beneath, so a kept
run folder shows what the system wrote.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

from harness.disks.mounts import (
    MNT_DETACH,
    MS_BIND,
    MS_NODEV,
    MS_NOSUID,
    MS_RDONLY,
    MS_REMOUNT,
    MountError,
    mount,
    mounts_at,
    source_name,
    umount,
    unmount_below,
)

BALLOON = ".chaos-balloon"
_FILL_CHUNKS = (1 << 20, 1 << 16, 1 << 12)


class DiskError(RuntimeError):
    """A disk could not be mounted, filled or made read-only: why, in words."""


@dataclass(frozen=True)
class Usage:
    total: int
    free: int


@dataclass(frozen=True)
class Balloon:
    """A fill in place: its size and what was free before."""

    size: int
    free_before: int


class Disk:
    """A tmpfs of ``size`` bytes at ``path``; ``mount`` first, ``close`` always."""

    def __init__(self, name: str, path: Path, size: int) -> None:
        self.name = name
        self.path = path
        self.size = size
        self._root_fd: int | None = None
        """The tmpfs's own root, opened before any overlay: the balloon is reached
        through it, so a read-only bind on top never stands in the way of its removal."""
        self._lock = threading.Lock()
        self._balloon: Balloon | None = None
        self._overlays = 0

    # ------------------------------------------------------------------ lifecycle

    def mount(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        options = f"size={self.size},mode=0755"
        try:
            mount(source_name(), self.path, "tmpfs", MS_NOSUID | MS_NODEV, options)
        except MountError as exc:
            raise DiskError(f"cannot mount a {self.size}-byte tmpfs on {self.path}: {exc}") from exc
        self._root_fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)

    def close(self, keep: bool = False) -> list[str]:
        """Unmount everything on the disk's folder; what went wrong, in words (or nothing)."""
        problems: list[str] = []
        with self._lock:
            root_fd, self._root_fd = self._root_fd, None
        if root_fd is None:
            return problems
        saved: Path | None = None
        if keep:
            saved = self.path.with_name(self.path.name + ".kept")
            try:
                shutil.copytree(self.path, saved, symlinks=True, ignore=_no_balloon)
            except (OSError, shutil.Error) as exc:
                problems.append(f"disk {self.name}: could not keep its files: {exc}")
                saved = None
        os.close(root_fd)
        try:
            _unmount_stack(self.path)
        except MountError as exc:
            problems.append(f"disk {self.name}: {exc}; detached lazily")
            unmount_below(self.path)
        if saved is not None:
            for entry in saved.iterdir():
                os.replace(entry, self.path / entry.name)
            saved.rmdir()
        return problems

    # ------------------------------------------------------------------ faults

    def usage(self) -> Usage:
        stat = os.statvfs(self._fd())
        return Usage(total=stat.f_blocks * stat.f_frsize, free=stat.f_bavail * stat.f_frsize)

    def fill(self) -> Balloon:
        """Take every free block with the balloon file; raises ``DiskError`` if filled."""
        with self._lock:
            if self._balloon is not None:
                raise DiskError(f"disk {self.name} is already full")
            root = self._fd()
            free = self.usage().free
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
            fd = os.open(BALLOON, flags, 0o600, dir_fd=root)
            try:
                size = _fill(fd, free)
            finally:
                os.close(fd)
            self._balloon = Balloon(size=size, free_before=free)
            return self._balloon

    def unfill(self) -> Balloon | None:
        """Delete the balloon: the space is free again."""
        with self._lock:
            balloon, self._balloon = self._balloon, None
            if balloon is not None and self._root_fd is not None:
                # If the system removed it, the space is back anyway.
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(BALLOON, dir_fd=self._root_fd)
            return balloon

    def make_read_only(self) -> None:
        """A read-only bind of the disk on top of its folder."""
        with self._lock:
            self._fd()
            try:
                mount(str(self.path), self.path, None, MS_BIND)
            except MountError as exc:
                raise DiskError(f"cannot bind {self.path} on itself: {exc}") from exc
            try:
                flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV
                mount(None, self.path, None, flags)
            except MountError as exc:
                umount(self.path, MNT_DETACH)
                raise DiskError(f"cannot make the bind on {self.path} read-only: {exc}") from exc
            self._overlays += 1

    def make_writable(self) -> bool:
        """Lift the read-only bind (lazily: a file opened through it stays readable)."""
        with self._lock:
            if self._overlays == 0:
                return False
            umount(self.path, MNT_DETACH)
            self._overlays -= 1
            return True

    def _fd(self) -> int:
        if self._root_fd is None:
            raise DiskError(f"disk {self.name} is not mounted")
        return self._root_fd


def _fill(fd: int, free: int) -> int:
    """Reserve ``free`` bytes at once, then write until the filesystem says ENOSPC."""
    size = 0
    if free > 0:
        try:
            os.posix_fallocate(fd, 0, free)
            size = free
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EOPNOTSUPP, errno.EINVAL):
                raise
    os.lseek(fd, size, os.SEEK_SET)
    for chunk in _FILL_CHUNKS:  # top off what others wrote meanwhile or fallocate left
        zeros = bytes(chunk)
        while True:
            try:
                size += os.write(fd, zeros)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                break
    return size


def _unmount_stack(path: Path) -> None:
    """Every mount stacked on ``path``, top first: a plain unmount, lazy only if busy."""
    for _ in range(len(mounts_at(path))):
        try:
            umount(path)
        except MountError as exc:
            if exc.errno != errno.EBUSY:
                raise
            umount(path, MNT_DETACH)
            raise MountError(exc.errno, f"{path} was busy (a process still holds a file)") from exc


def _no_balloon(folder: str, names: list[str]) -> list[str]:
    return [BALLOON] if BALLOON in names else []

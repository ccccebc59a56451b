"""cgroup v2: where the hierarchy is (pure, from mountinfo), and the few operations we use.

The v2 hierarchy is found from ``/proc/self/mountinfo`` (fstype ``cgroup2``), never assumed
at ``/sys/fs/cgroup``: a hybrid host mounts v1 controllers there and v2 at
``/sys/fs/cgroup/unified``; a pure-v2 host mounts v2 at ``/sys/fs/cgroup`` itself. This
process's own cgroup is the ``0::`` line of ``/proc/self/cgroup``, a path relative to the
mount's root (which is not ``/`` inside a container with its own cgroup namespace).

``Cgroup`` wraps one directory: create, move a pid in, list its pids (subtree included),
freeze, ``cgroup.kill``, wait until ``populated 0`` (``cgroup.events`` wakes ``poll`` on
every change), remove bottom-up. Every method raises ``OSError`` as the kernel gives it;
callers decide whether that is a host problem.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import select
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Cgroup", "Mount", "cgroup_of", "locate", "own_path", "parse_mountinfo"]

_OCTAL = re.compile(r"\\([0-7]{3})")
_POLL_SLICE_S = 0.1
"""Longest sleep between looks at ``cgroup.events`` when poll() does not wake us."""


@dataclass(frozen=True)
class Mount:
    """A cgroup2 mount: where it is (``point``) and which cgroup path its top shows."""

    point: Path
    root: str = "/"

    def dir_of(self, cgroup: str) -> Path | None:
        """The directory of ``cgroup`` (a ``/proc/PID/cgroup`` path) under this mount."""
        if cgroup.endswith(" (deleted)"):
            return None
        root = self.root.rstrip("/")
        if cgroup != root and not cgroup.startswith(root + "/"):
            return None  # outside what this mount shows (another cgroup namespace)
        rel = cgroup[len(root) :].strip("/")
        return self.point / rel if rel else self.point

    def path_of(self, directory: Path) -> str:
        """The cgroup path of ``directory`` as ``/proc/PID/cgroup`` names it."""
        rel = directory.relative_to(self.point).as_posix()
        root = self.root.rstrip("/")
        return f"{root}/{rel}" if rel != "." else (root or "/")


def _unescape(field: str) -> str:
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), field)


def parse_mountinfo(text: str) -> list[Mount]:
    """Every cgroup2 mount in a ``/proc/self/mountinfo`` text, in order."""
    found: list[Mount] = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        fields, tail = left.split(), right.split()
        if len(fields) < 5 or not tail or tail[0] != "cgroup2":
            continue
        found.append(Mount(point=Path(_unescape(fields[4])), root=_unescape(fields[3])))
    return found


def own_path(proc_cgroup: str) -> str | None:
    """The v2 path in a ``/proc/PID/cgroup`` text (its ``0::`` line), or None."""
    for line in proc_cgroup.splitlines():
        if line.startswith("0::"):
            return line[3:].strip() or None
    return None


def locate(mounts: list[Mount], own: str | None) -> tuple[Mount, Path | None] | None:
    """The mount to use and this process's own cgroup directory under it (None if hidden).

    The first mount that shows our own cgroup wins; else the first mount (a process may
    be outside what a namespaced mount shows).
    """
    if not mounts:
        return None
    if own is not None:
        for mount in mounts:
            directory = mount.dir_of(own)
            if directory is not None:
                return mount, directory
    return mounts[0], None


def cgroup_of(pid: int | str) -> str | None:
    """The v2 cgroup path of ``pid`` (``self`` allowed), None if gone or unreadable."""
    try:
        with open(f"/proc/{pid}/cgroup", encoding="utf-8", errors="replace") as handle:
            return own_path(handle.read())
    except OSError:
        return None


class Cgroup:
    """One cgroup v2 directory."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __repr__(self) -> str:
        return f"Cgroup({str(self.path)!r})"

    @property
    def name(self) -> str:
        return self.path.name

    def child(self, name: str) -> Cgroup:
        return Cgroup(self.path / name)

    def exists(self) -> bool:
        return (self.path / "cgroup.procs").exists()

    def create(self) -> None:
        """mkdir, parents included; an existing directory is fine.

        A parent removed by another run between our mkdirs (it removes the shared parent
        once empty) is made again.
        """
        for _ in range(8):
            try:
                self.path.mkdir(parents=True, exist_ok=True)
                return
            except FileNotFoundError:
                continue
        self.path.mkdir(parents=True, exist_ok=True)

    def add(self, pid: int) -> None:
        """Move ``pid`` (the whole process) into this cgroup."""
        with open(self.path / "cgroup.procs", "w", encoding="ascii") as handle:
            handle.write(str(pid))

    def own_pids(self) -> list[int]:
        """Pids in this cgroup itself (not its children); empty if it is gone."""
        try:
            raw = (self.path / "cgroup.procs").read_bytes()
        except OSError:
            return []
        return [int(p) for p in raw.split()]

    def children(self) -> list[Cgroup]:
        """The child cgroups, in name order; empty if gone."""
        try:
            entries = sorted(os.scandir(self.path), key=lambda e: e.name)
        except OSError:
            return []
        return [Cgroup(Path(e.path)) for e in entries if e.is_dir(follow_symlinks=False)]

    def walk(self) -> Iterator[Cgroup]:
        """This cgroup and every descendant, parents first."""
        yield self
        for child in self.children():
            yield from child.walk()

    def pids(self) -> list[int]:
        """Pids in this cgroup and all its descendants."""
        return [pid for group in self.walk() for pid in group.own_pids()]

    def _events(self) -> dict[str, str]:
        try:
            text = (self.path / "cgroup.events").read_text(encoding="ascii")
        except OSError:
            return {}
        return dict(line.split(" ", 1) for line in text.splitlines() if " " in line)

    def populated(self) -> bool:
        """Whether any process is in this cgroup or below (False once it is gone)."""
        return self._events().get("populated", "0").strip() == "1"

    def freeze(self, frozen: bool = True) -> None:
        (self.path / "cgroup.freeze").write_text("1" if frozen else "0", encoding="ascii")

    def is_frozen(self) -> bool:
        return self._events().get("frozen", "0").strip() == "1"

    def kill(self) -> None:
        """SIGKILL every process in this cgroup and below, at once (``cgroup.kill``)."""
        (self.path / "cgroup.kill").write_text("1", encoding="ascii")

    def wait_for(self, *, empty: bool = False, frozen: bool = False, timeout: float) -> bool:
        """Block until ``populated 0`` (``empty``) or ``frozen 1`` (``frozen``); False on timeout.

        ``cgroup.events`` raises POLLPRI on every change, so this wakes as it happens.
        """
        deadline = time.monotonic() + timeout

        def done() -> bool:
            if empty and self.populated():
                return False
            return not (frozen and not self.is_frozen())

        try:
            fd = os.open(self.path / "cgroup.events", os.O_RDONLY)
        except OSError:
            return done()
        try:
            poller = select.poll()
            poller.register(fd, select.POLLPRI | select.POLLERR)
            os.read(fd, 4096)  # arm: poll reports changes after the last read
            while not done():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                poller.poll(int(min(remaining, _POLL_SLICE_S) * 1000) + 1)
                os.lseek(fd, 0, os.SEEK_SET)
                with contextlib.suppress(OSError):
                    os.read(fd, 4096)
            return True
        finally:
            os.close(fd)

    def remove(self) -> bool:
        """rmdir this cgroup and its descendants, deepest first; False if one is busy.

        Only for a cgroup that is wholly ours (a run's, a trial's): for a shared parent use
        ``rmdir_if_empty``, which never touches what is below.
        """
        ok = True
        for child in self.children():
            ok = child.remove() and ok
        return self.rmdir_if_empty() and ok

    def rmdir_if_empty(self) -> bool:
        """rmdir this one cgroup if it has no children and no processes (else False)."""
        try:
            self.path.rmdir()
        except FileNotFoundError:
            pass
        except OSError as exc:
            if exc.errno not in (errno.EBUSY, errno.ENOTEMPTY):
                raise
            return False
        return True

"""mount(2)/umount2(2) through libc, the kernel's list of mounts, and the sweep of leftovers.

Every tmpfs the harness mounts carries its owner in its source name,
``chaos-disk-<harness pid>-<harness start time>``, so the kernel's own mount table
(``/proc/self/mountinfo``) is the ledger: nothing to write, nothing to lose when the harness
is killed. ``sweep_orphans`` unmounts every chaos disk whose harness is gone (the next
``chaos run`` calls it), and ``unmount_owned_by(pid)`` is the hook for a guardian process
that outlives a harness: call it once that harness has died.

No mount propagation is changed: a mount and its unmount propagate alike, so nothing is
left behind in a peer namespace either.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
from dataclasses import dataclass
from pathlib import Path

SOURCE_PREFIX = "chaos-disk-"
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_REMOUNT = 32
MS_BIND = 4096
MNT_DETACH = 2
_MOUNTINFO = "/proc/self/mountinfo"


class MountError(OSError):
    """A mount or unmount the kernel refused; ``errno`` says why."""


@dataclass(frozen=True)
class MountEntry:
    """One line of ``/proc/self/mountinfo``."""

    mount_id: int
    point: str
    fstype: str
    source: str
    options: str
    """Per-mount options (``ro``/``rw`` first)."""

    @property
    def read_only(self) -> bool:
        return self.options.split(",")[0] == "ro"


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.mount.argtypes = [
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_ulong,
        ctypes.c_char_p,
    ]
    libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
    return libc


_LIBC: ctypes.CDLL | None = None


def _c() -> ctypes.CDLL:
    global _LIBC
    if _LIBC is None:
        _LIBC = _libc()
    return _LIBC


def _raise(what: str, target: str) -> None:
    code = ctypes.get_errno()
    raise MountError(code, f"{what} {target}: {os.strerror(code)}")


def mount(
    source: str | None, target: Path, fstype: str | None, flags: int, data: str | None = None
) -> None:
    """mount(2); raises ``MountError`` with the errno."""

    def b(text: str | None) -> bytes | None:
        return None if text is None else os.fsencode(text)

    if _c().mount(b(source), b(str(target)), b(fstype), flags, b(data)) != 0:
        _raise("mount", str(target))


def umount(target: Path, flags: int = 0) -> None:
    """umount2(2); raises ``MountError`` with the errno."""
    if _c().umount2(os.fsencode(str(target)), flags) != 0:
        _raise("umount", str(target))


def source_name(pid: int | None = None) -> str:
    """The source name of a tmpfs owned by ``pid`` (default: this process)."""
    pid = os.getpid() if pid is None else pid
    return f"{SOURCE_PREFIX}{pid}-{_start_time(pid) or 0}"


# --------------------------------------------------------------------------- the mount table


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash as ``\\ooo``."""
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and i + 4 <= len(field) and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def parse_mountinfo(text: str) -> list[MountEntry]:
    """Every mount of ``text`` (the format of ``/proc/PID/mountinfo``), in table order."""
    entries: list[MountEntry] = []
    for line in text.splitlines():
        fields = line.split()
        if "-" not in fields or len(fields) < 7:
            continue
        sep = fields.index("-")
        if len(fields) < sep + 3:
            continue
        entries.append(
            MountEntry(
                mount_id=int(fields[0]),
                point=_unescape(fields[4]),
                options=fields[5],
                fstype=fields[sep + 1],
                source=_unescape(fields[sep + 2]),
            )
        )
    return entries


def mount_table() -> list[MountEntry]:
    """This mount namespace's mounts, in the kernel's order (a later one is on top)."""
    try:
        with open(_MOUNTINFO, encoding="utf-8", errors="surrogateescape") as handle:
            return parse_mountinfo(handle.read())
    except OSError:
        return []


def mounts_at(path: Path) -> list[MountEntry]:
    """The mounts stacked on exactly ``path``, bottom first."""
    point = os.path.realpath(path)
    return [m for m in mount_table() if m.point == point]


def _below(entry: MountEntry, root: str) -> bool:
    return entry.point == root or entry.point.startswith(root.rstrip("/") + "/")


def _detach_all(select: list[MountEntry]) -> list[str]:
    """Lazily unmount the given mounts, top and deepest first; the points unmounted."""
    done: list[str] = []
    for entry in sorted(select, key=lambda m: (m.point.count("/"), m.mount_id), reverse=True):
        try:
            umount(Path(entry.point), MNT_DETACH)
        except MountError as exc:
            if exc.errno not in (errno.EINVAL, errno.ENOENT):
                raise
            continue
        done.append(entry.point)
    return done


def unmount_below(root: Path) -> list[str]:
    """Unmount every mount on or under ``root`` (a trial folder): what was unmounted."""
    point = os.path.realpath(root)
    return _detach_all([m for m in mount_table() if _below(m, point)])


def unmount_owned_by(pid: int, start_time: str | None = None) -> list[str]:
    """The guardian's hook: unmount every chaos disk of the harness ``pid`` (started at
    ``start_time``, as in ``/proc/PID/stat``; any start time if ``None``), with every mount
    stacked on or under it. Safe to call for a harness that mounted nothing."""
    prefix = f"{SOURCE_PREFIX}{pid}-"
    roots = [
        m.point
        for m in mount_table()
        if m.source.startswith(prefix)
        and (start_time is None or m.source == f"{prefix}{start_time}")
    ]
    done: list[str] = []
    for root in dict.fromkeys(roots):
        done += unmount_below(Path(root))
    return done


def sweep_orphans() -> list[str]:
    """Unmount the chaos disks of every harness that is no longer running."""
    done: list[str] = []
    for entry in mount_table():
        owner = _owner(entry.source)
        if owner is not None and not _alive(*owner):
            done += unmount_owned_by(*owner)
    return done


def _owner(source: str) -> tuple[int, str] | None:
    if not source.startswith(SOURCE_PREFIX):
        return None
    pid, _, start = source[len(SOURCE_PREFIX) :].partition("-")
    return (int(pid), start) if pid.isdigit() else None


def _start_time(pid: int) -> str | None:
    """Field 22 of ``/proc/PID/stat``: tells a live process from a recycled pid."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _alive(pid: int, start: str) -> bool:
    now = _start_time(pid)
    return now is not None and (start in ("", "0") or now == start)

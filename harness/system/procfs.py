"""Small, failure-tolerant reads of /proc: a process may vanish between any two of them.

Every reader returns None (or empty) for a process that is gone or unreadable; callers
treat that as "not there (any more)", never as an error.
"""

from __future__ import annotations

import functools
import os

_PROC = "/proc"


def children(pid: int) -> list[int]:
    """Direct children of ``pid``, across all its threads (``task/*/children``)."""
    try:
        tids = os.listdir(f"{_PROC}/{pid}/task")
    except OSError:
        return []
    found: list[int] = []
    for tid in tids:
        try:
            with open(f"{_PROC}/{pid}/task/{tid}/children", "rb") as handle:
                data = handle.read()
        except OSError:
            continue
        if data:
            found.extend(int(c) for c in data.split())
    return found


def has_children_files() -> bool:
    """Whether the kernel exposes ``task/*/children`` (CONFIG_PROC_CHILDREN)."""
    me = os.getpid()
    return os.path.exists(f"{_PROC}/{me}/task/{me}/children")


def cmdline(pid: int) -> list[str] | None:
    """The argument vector; None if gone; empty for a zombie."""
    try:
        with open(f"{_PROC}/{pid}/cmdline", "rb") as handle:
            raw = handle.read()
    except OSError:
        return None
    if not raw:
        return []
    return [part.decode("utf-8", "replace") for part in raw.rstrip(b"\0").split(b"\0")]


def _stat_fields(pid: int) -> list[bytes] | None:
    """The fields of ``stat`` after the command name (state first), or None if gone."""
    try:
        with open(f"{_PROC}/{pid}/stat", "rb") as handle:
            raw = handle.read()
    except OSError:
        return None
    return raw[raw.rfind(b")") + 2 :].split()


def state_and_ppid(pid: int) -> tuple[str, int] | None:
    """The state letter and current parent pid (fields 3 and 4 of ``stat``), in one read."""
    fields = _stat_fields(pid)
    try:
        return (fields[0].decode("ascii", "replace"), int(fields[1])) if fields else None
    except (IndexError, ValueError):
        return None


def state(pid: int) -> str | None:
    """The scheduler state letter (``R``, ``S``, ``D``, ``T``, ``Z``...), None if gone."""
    fields = _stat_fields(pid)
    return fields[0].decode("ascii", "replace") if fields else None


def run_state(pid: int) -> tuple[str, float] | None:
    """The scheduler state letter (``stat``) and CPU seconds run so far (``schedstat``).

    None if either is unreadable (gone, or a kernel without schedstat, or one that reads
    all zeros there, as some do without ``SCHED_INFO`` accounting).
    """
    if not _schedstat_counts():
        return None
    letter = state(pid)
    try:
        with open(f"{_PROC}/{pid}/schedstat", "rb") as handle:
            run_ns = int(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return (letter, run_ns / 1e9) if letter else None


@functools.cache
def _schedstat_counts() -> bool:
    """Whether ``schedstat`` really counts run time here: this process has surely run."""
    try:
        with open(f"{_PROC}/self/schedstat", "rb") as handle:
            return int(handle.read().split()[0]) > 0
    except (OSError, ValueError, IndexError):
        return False


def exe_name(pid: int) -> str | None:
    """Base name of the executable file (``/proc/<pid>/exe``), if readable."""
    try:
        return os.path.basename(os.readlink(f"{_PROC}/{pid}/exe"))
    except OSError:
        return None


def last_pid() -> int | None:
    """The pid most recently handed out on this machine (``/proc/loadavg``'s last field).

    If it has not moved since the last look, no process or thread was created anywhere in
    between, so a scan for new children would find nothing.
    """
    try:
        with open(f"{_PROC}/loadavg", "rb") as handle:
            return int(handle.read().rsplit(None, 1)[-1])
    except (OSError, ValueError, IndexError):
        return None

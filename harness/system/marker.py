"""The environment marker every launched process carries, and the scan that finds it.

The harness cannot rely on the process tree alone: a daemonising program (double fork +
``setsid``) leaves it, and a harness that was killed leaves its whole tree behind. Both are
still recognisable, because environment variables are inherited across fork and exec: every
process the harness launches gets ``CHAOS_TRIAL`` (the trial's id) and ``CHAOS_HARNESS_PID``
(who launched it). Only processes carrying a marker are ever touched by a marker scan.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HostError

TRIAL_ENV = "CHAOS_TRIAL"
HARNESS_PID_ENV = "CHAOS_HARNESS_PID"
HARNESS_START_ENV = "CHAOS_HARNESS_START"
"""The harness's start time (clock ticks since boot): tells a live harness from a recycled pid."""
INSTANCE_ENV = "CHAOS_INSTANCE"

_PROC = Path("/proc")


@dataclass(frozen=True)
class Marker:
    """What a marked process says about where it came from."""

    trial_id: str
    harness_pid: int
    harness_start: int | None = None
    instance: int | None = None


def marker_env(trial_id: str, instance: int | None = None) -> dict[str, str]:
    """The variables to add to a launched process's environment."""
    env = {TRIAL_ENV: trial_id, HARNESS_PID_ENV: str(os.getpid())}
    start = start_time(os.getpid())
    if start is not None:
        env[HARNESS_START_ENV] = str(start)
    if instance is not None:
        env[INSTANCE_ENV] = str(instance)
    return env


def require_proc() -> None:
    """Raise ``HostError`` when there is no Linux ``/proc`` to scan."""
    if not (_PROC / "self" / "environ").exists():
        raise HostError(
            "process tracking needs a Linux /proc file system (not found); "
            "run the harness on Linux or in a Linux container"
        )


def start_time(pid: int) -> int | None:
    """Field 22 of ``/proc/<pid>/stat`` (start time in clock ticks), or None if unreadable."""
    try:
        stat = (_PROC / str(pid) / "stat").read_bytes()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    fields = stat[stat.rfind(b")") + 2 :].split()
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None


def read_marker(pid: int) -> Marker | None:
    """The marker in ``/proc/<pid>/environ``; None if absent or unreadable (zombie, not ours)."""
    try:
        raw = (_PROC / str(pid) / "environ").read_bytes()
    except OSError:
        return None
    values: dict[str, str] = {}
    for item in raw.split(b"\0"):
        key, sep, value = item.partition(b"=")
        if sep and key.startswith(b"CHAOS_"):
            values[key.decode("ascii", "replace")] = value.decode("ascii", "replace")
    trial = values.get(TRIAL_ENV)
    harness = values.get(HARNESS_PID_ENV, "")
    if not trial or not harness.isdigit():
        return None
    start = values.get(HARNESS_START_ENV, "")
    instance = values.get(INSTANCE_ENV, "")
    return Marker(
        trial_id=trial,
        harness_pid=int(harness),
        harness_start=int(start) if start.isdigit() else None,
        instance=int(instance) if instance.isdigit() else None,
    )


def find_marked(trial_id: str | None = None) -> list[int]:
    """Pids of live processes carrying a marker (of ``trial_id``, if given); never our own."""
    require_proc()
    me = os.getpid()
    found: list[int] = []
    for entry in os.scandir(_PROC):
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        if pid == me:
            continue
        marker = read_marker(pid)
        if marker is None:
            continue
        if trial_id is None or marker.trial_id == trial_id:
            found.append(pid)
    return sorted(found)

"""The harness as child subreaper, and the reaping of what a killed earlier run left behind.

As a subreaper (``PR_SET_CHILD_SUBREAPER``), orphans of the system's tree are re-parented to
the harness instead of init: they stay visible, the harness can reap them and learn their
exit status, and a parent's death cannot hide its children. A harness that was itself
killed leaves marked processes whose ``CHAOS_HARNESS_PID`` is dead: the next run kills them.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading

from harness.system.marker import Marker, find_marked, start_time
from harness.system.pidfd import kill_if_marked

PR_SET_CHILD_SUBREAPER = 36
PR_GET_CHILD_SUBREAPER = 37

_lock = threading.Lock()


def become_subreaper() -> bool:
    """Make this process a child subreaper; idempotent. False off Linux or if refused."""
    if not sys.platform.startswith("linux"):
        return False
    with _lock:
        libc = ctypes.CDLL(None, use_errno=True)
        current = ctypes.c_int(0)
        if libc.prctl(PR_GET_CHILD_SUBREAPER, ctypes.byref(current), 0, 0, 0) == 0 and (
            current.value
        ):
            return True
        return bool(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)


def is_subreaper() -> bool:
    """Whether this process is currently a child subreaper."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    current = ctypes.c_int(0)
    if libc.prctl(PR_GET_CHILD_SUBREAPER, ctypes.byref(current), 0, 0, 0) != 0:
        return False
    return bool(current.value)


def harness_alive(marker: Marker) -> bool:
    """Is the harness that launched a marked process still running?

    A pid whose start time differs from the recorded one is a recycled pid: that harness is
    dead. A zombie harness is dead too.
    """
    try:
        with open(f"/proc/{marker.harness_pid}/stat", "rb") as stat:
            raw = stat.read()
    except OSError:
        return False
    state = raw[raw.rfind(b")") + 2 :].split()[:1]
    if state == [b"Z"] or state == [b"X"]:
        return False
    if marker.harness_start is not None:
        return start_time(marker.harness_pid) == marker.harness_start
    return True


def reap_leftovers() -> list[int]:
    """SIGKILL marked processes whose harness is gone; returns their pids.

    Processes without a marker, and those of a live harness (another run in parallel), are
    never touched.
    """
    killed: list[int] = []
    for pid in find_marked():
        if not _same_pid_namespace(pid):
            continue  # its harness's pid means nothing here: not ours to judge
        if kill_if_marked(pid, lambda m: not harness_alive(m)):
            killed.append(pid)
    return killed


def _same_pid_namespace(pid: int) -> bool:
    """Whether ``pid`` lives in our pid namespace (a harness in a container is another)."""
    try:
        return os.readlink(f"/proc/{pid}/ns/pid") == os.readlink("/proc/self/ns/pid")
    except OSError:
        return False

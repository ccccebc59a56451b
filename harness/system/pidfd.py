"""Signals and reaping through pidfds: a pidfd names one process, never a recycled pid.

Everything the harness does to a process goes through a pidfd opened while the process was
known to be ours; a plain ``os.kill(pid)`` could hit whatever reused that pid meanwhile.
"""

from __future__ import annotations

import errno
import os
import select
import signal
from collections.abc import Callable
from dataclasses import dataclass

from harness.errors import HostError
from harness.system.marker import Marker, read_marker


@dataclass(frozen=True)
class ExitStatus:
    """How a process ended, when the harness reaped it; both None when someone else did."""

    code: int | None = None
    signal: str | None = None

    @property
    def reaped(self) -> bool:
        """Whether the harness reaped it (else its own parent did, or will)."""
        return self.code is not None or self.signal is not None

    @property
    def returncode(self) -> int | None:
        """``subprocess`` style: the exit code, or minus the signal number."""
        if self.code is not None:
            return self.code
        if self.signal is not None:
            return -int(signal.Signals[self.signal])
        return None


def require_pidfd() -> None:
    """Raise ``HostError`` where pidfds are missing (not Linux >= 5.4)."""
    if not (hasattr(os, "pidfd_open") and hasattr(signal, "pidfd_send_signal")):
        raise HostError("process tracking needs pidfds (Linux 5.4 or newer with Python 3.9+)")


def open_pidfd(pid: int) -> int | None:
    """A pidfd for ``pid``, or None if it no longer exists."""
    require_pidfd()
    try:
        return os.pidfd_open(pid)
    except ProcessLookupError:
        return None
    except OSError as exc:
        if exc.errno in (errno.ESRCH, errno.EINVAL):
            return None
        raise


def send(fd: int, signum: int) -> bool:
    """Send ``signum`` through ``fd``; False if the process has already exited."""
    try:
        signal.pidfd_send_signal(fd, signum)
    except ProcessLookupError:
        return False
    return True


def has_exited(fd: int) -> bool:
    """True once the process behind ``fd`` has exited (zombie or reaped)."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


def wait_exit(fd: int, timeout: float) -> bool:
    """Block until the process behind ``fd`` exits (True) or ``timeout`` passes (False)."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(max(0, int(timeout * 1000))))


def reap(fd: int) -> ExitStatus | None:
    """Reap the exited process behind ``fd`` if it is our child (or re-parented to us).

    Returns its status; ``ExitStatus()`` when it is not our child (ECHILD: its own parent
    reaps it); None when it has not exited yet.
    """
    try:
        result = os.waitid(os.P_PIDFD, fd, os.WEXITED | os.WNOHANG)
    except ChildProcessError:
        return ExitStatus()
    if result is None or result.si_pid == 0:
        return None
    if result.si_code == os.CLD_EXITED:
        return ExitStatus(code=result.si_status)
    try:
        return ExitStatus(signal=signal.Signals(result.si_status).name)
    except ValueError:
        return ExitStatus(signal=str(result.si_status))


def kill_if_marked(pid: int, accept: Callable[[Marker], bool], *, timeout: float = 5.0) -> bool:
    """SIGKILL ``pid`` only if it carries a marker ``accept`` approves; wait and reap it.

    The marker is checked *after* the pidfd is open, so the process checked is the process
    signalled, even if the pid was recycled in between. Returns whether it was killed.
    """
    fd = open_pidfd(pid)
    if fd is None:
        return False
    try:
        marker = read_marker(pid)
        if marker is None or not accept(marker):
            return False
        if not send(fd, signal.SIGKILL):
            return False
        send(fd, signal.SIGCONT)
        wait_exit(fd, timeout)
        reap(fd)
        return True
    finally:
        os.close(fd)

"""Dead processes the harness may be handed: reaped once they are its own.

A child that exits while its parent lives is its parent's to reap (``waitid`` says ECHILD
to the harness). If that parent dies first without reaping it, the kernel re-parents the
zombie to the harness, the subreaper, and nobody else ever will: the tracker keeps a
pidfd of every exit it could not reap and, every ``CHECK_EVERY_S``, reaps those that have
become its own and forgets those their parent reaped.
"""

from __future__ import annotations

import contextlib
import os
import signal

from harness.system.pidfd import reap

__all__ = ["CHECK_EVERY_S", "HandedZombies"]

CHECK_EVERY_S = 0.1
"""How often the exits left to another parent are looked at again."""


class HandedZombies:
    """Pidfds (our own duplicates) of exited processes another parent was to reap."""

    def __init__(self) -> None:
        self._fds: dict[int, int] = {}  # our dup of the pidfd -> pid
        self._next = 0.0

    def __bool__(self) -> bool:
        return bool(self._fds)

    def keep(self, fd: int, pid: int) -> None:
        """Keep the process behind ``fd`` in view (the caller keeps its own ``fd``)."""
        if pid in self._fds.values():
            return
        with contextlib.suppress(OSError):
            self._fds[os.dup(fd)] = pid

    def due(self, now: float) -> bool:
        """Whether a look is due (``check`` then); at most every ``CHECK_EVERY_S``."""
        if not self._fds or now < self._next:
            return False
        self._next = now + CHECK_EVERY_S
        return True

    def check(self) -> None:
        """Reap what is ours now; forget what its own parent reaped."""
        for fd in list(self._fds):
            status = reap(fd)
            gone = status is not None and status.reaped
            if not gone:
                try:
                    signal.pidfd_send_signal(fd, 0)  # a zombie still takes signal 0
                except OSError:  # ProcessLookupError: reaped by its own parent
                    gone = True
            if gone:
                del self._fds[fd]
                os.close(fd)

    def close(self) -> None:
        """A last look, then close every pidfd: what is left is a live parent's to reap."""
        self.check()
        for fd in self._fds:
            os.close(fd)
        self._fds.clear()

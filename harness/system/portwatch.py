"""Which tracked process listens on which port, first sighting only, read cheaply.

Reading every tracked process's fd table each round is most of an idle tracker's cost (50
processes, 4 rounds a second). The owner of a listening socket can only change when the
namespace's set of listening sockets changes (a new ``listen``) or the set of live
processes changes (a fork inherits one), so a round where neither changed reads only
``/proc/net/tcp{,6}``. A full look every ``full_every`` rounds still catches a socket
handed over another way (``SCM_RIGHTS`` to a process that was already running).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from harness.observe.events import PortListen
from harness.system.process import TrackedProcess
from harness.system.sockets import listening_inodes, socket_inodes

__all__ = ["PortWatcher"]


class PortWatcher:
    """Records each (process, port) pair once, the first time it is seen listening."""

    def __init__(self, *, full_every: int = 8) -> None:
        self._seen: set[tuple[int, int]] = set()
        self._full_every = max(1, full_every)
        self._rounds = 0
        self._last_inodes: frozenset[int] | None = None
        self._last_pids: frozenset[int] | None = None

    def scan(
        self, live: Mapping[int, TrackedProcess], now: Callable[[], float]
    ) -> list[PortListen]:
        """One round over ``live``; ``now`` gives the trial time of each new sighting."""
        self._rounds += 1
        if not live:
            self._last_pids = frozenset()
            return []
        listening = listening_inodes()
        inodes, pids = frozenset(listening), frozenset(live)
        unchanged = inodes == self._last_inodes and pids == self._last_pids
        self._last_inodes, self._last_pids = inodes, pids
        if not listening or (unchanged and self._rounds % self._full_every):
            return []
        events: list[PortListen] = []
        for pid, proc in live.items():
            ports = {listening[i] for i in socket_inodes(pid) if i in listening}
            for address, port in sorted(ports):
                if (pid, port) in self._seen:
                    continue
                self._seen.add((pid, port))
                events.append(
                    PortListen(
                        t=now(),
                        pid=pid,
                        instance=proc.instance,
                        role=proc.role,
                        port=port,
                        address=address,
                    )
                )
        return events

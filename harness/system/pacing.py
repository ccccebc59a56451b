"""When the tracker looks: fast while new processes are expected, slow while nothing moves.

Exits wake the tracker at once through pidfds, and replacements follow exits, so discovery
runs at the fast interval (5 ms) for ``hot_for`` after any start, exit or injected fault
and at the idle interval (25 ms) otherwise: an idle system costs a fifth of the CPU, and a
spontaneous spawn is still seen within the idle interval. Scans are skipped outright when
no pid was handed out anywhere since the last one (``/proc/loadavg``'s last pid), with a
full scan at least every ``FULL_SCAN_EVERY_S`` as a backstop. Listening ports are read
every 250 ms while hot and every 2 s when idle (``/proc/net/tcp`` is the costliest read).
Pure bookkeeping on an injectable monotonic clock; the tracker does the reading.
"""

from __future__ import annotations

import time
from collections.abc import Callable

FULL_SCAN_EVERY_S = 0.5
"""A children scan runs at least this often even when no new pid was seen (a backstop)."""


class ScanPacer:
    """The tracker's schedule: when the next children scan and port scan are due."""

    def __init__(
        self,
        *,
        scan_interval: float,
        idle_scan_interval: float,
        hot_for: float,
        port_interval: float,
        idle_port_interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self.scan_interval = scan_interval
        self.idle_scan_interval = max(idle_scan_interval, scan_interval)
        self._hot_for = hot_for
        self._hot_until = clock() + hot_for  # start-up is when children appear
        self._port_interval = port_interval
        self._idle_port_interval = max(idle_port_interval, port_interval)
        self._next_scan = 0.0
        self._next_ports = 0.0
        self._last_pid: int | None = None
        self._last_full_scan = 0.0

    @property
    def next_scan(self) -> float:
        """Clock reading at which the next children scan is due."""
        return self._next_scan

    def heat(self) -> bool:
        """Go fast for ``hot_for``; True if the next scan had to be brought forward."""
        now = self._clock()
        self._hot_until = max(self._hot_until, now + self._hot_for)
        # The port scan too: a process that starts while the ports are on their idle
        # schedule (2 s) could listen, and die, before its socket was ever read.
        self._next_ports = min(self._next_ports, now + self._port_interval)
        sooner = now + self.scan_interval
        if sooner >= self._next_scan:
            return False
        self._next_scan = sooner
        return True

    def is_hot(self) -> bool:
        """Whether discovery currently runs at the fast interval."""
        return self._clock() < self._hot_until

    def wait_s(self, now: float) -> float:
        """How long the tracker may sleep (waiting for exits) before something is due."""
        return max(0.0, min(self._next_scan, self._next_ports) - now)

    def scan_due(self, now: float) -> bool:
        """Whether the children scan's time has come (see ``worth_scanning``)."""
        return now >= self._next_scan

    def worth_scanning(self, now: float, last_pid: int | None, pending: bool) -> bool:
        """Skip a due scan when no pid was handed out anywhere since the last one.

        Reading one small file is far cheaper than reading every tracked process's
        ``children``; pending execs and the periodic full scan keep it safe.
        """
        due = (
            last_pid is None
            or last_pid != self._last_pid
            or pending
            or now - self._last_full_scan >= FULL_SCAN_EVERY_S
        )
        if due:
            self._last_pid = last_pid
            self._last_full_scan = now
        return due

    def scanned(self) -> None:
        """Schedule the next children scan."""
        interval = self.scan_interval if self.is_hot() else self.idle_scan_interval
        self._next_scan = self._clock() + interval

    def ports_due(self, now: float) -> bool:
        """Whether the port scan's time has come."""
        return now >= self._next_ports

    def ports_scanned(self) -> None:
        """Schedule the next port scan."""
        interval = self._port_interval if self.is_hot() else self._idle_port_interval
        self._next_ports = self._clock() + interval

"""A minimal event loop: a selector, a timer heap and a thread-safe call queue.

Everything the supervisor does happens on this loop's thread. A child's exit wakes it
through the child's pidfd; HTTP threads and signal handlers wake it through a pipe; timers
set the selector's timeout. Nothing polls: idle, the loop sleeps in ``select``.
"""

from __future__ import annotations

import collections
import contextlib
import heapq
import itertools
import os
import selectors
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

Callback = Callable[[], None]


@dataclass(order=True)
class Timer:
    """A scheduled call; ``cancel()`` makes it a no-op."""

    when: float
    seq: int
    callback: Callback = field(compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        """Do not run it."""
        self.cancelled = True


class Loop:
    """Run callbacks for readable descriptors, due timers and cross-thread calls."""

    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._timers: list[Timer] = []
        self._seq = itertools.count()
        self._calls: collections.deque[Callback] = collections.deque()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, self._drain_wake)
        self._running = False
        self.thread: threading.Thread | None = None

    @property
    def wake_fd(self) -> int:
        """Write end of the wake pipe (for ``signal.set_wakeup_fd``)."""
        return self._wake_w

    def watch(self, fd: int, callback: Callback) -> None:
        """Call ``callback`` whenever ``fd`` is readable."""
        self._selector.register(fd, selectors.EVENT_READ, callback)

    def unwatch(self, fd: int) -> None:
        """Stop watching ``fd`` (before closing it)."""
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(fd)

    def call_later(self, delay: float, callback: Callback) -> Timer:
        """Run ``callback`` after ``delay`` seconds (loop thread only)."""
        timer = Timer(time.monotonic() + max(0.0, delay), next(self._seq), callback)
        heapq.heappush(self._timers, timer)
        return timer

    def call_soon_threadsafe(self, callback: Callback) -> None:
        """Run ``callback`` on the loop thread soon; safe from any thread or signal handler."""
        self._calls.append(callback)
        with contextlib.suppress(BlockingIOError):
            os.write(self._wake_w, b"\0")

    def stop(self) -> None:
        """Return from ``run`` after the current iteration."""
        self._running = False

    def _drain_wake(self) -> None:
        try:
            while os.read(self._wake_r, 4096):
                pass
        except BlockingIOError:
            pass

    def run(self) -> None:
        """Run until ``stop``; exceptions from callbacks propagate (and end the run)."""
        self._running = True
        self.thread = threading.current_thread()
        while self._running:
            timeout = None
            while self._timers and self._timers[0].cancelled:
                heapq.heappop(self._timers)
            if self._calls:
                timeout = 0.0
            elif self._timers:
                timeout = max(0.0, self._timers[0].when - time.monotonic())
            for key, _ in self._selector.select(timeout):
                key.data()
            while self._calls:
                self._calls.popleft()()
            now = time.monotonic()
            while self._timers and self._timers[0].when <= now:
                timer = heapq.heappop(self._timers)
                if not timer.cancelled:
                    timer.callback()

    def close(self) -> None:
        """Release the selector and the wake pipe."""
        self._selector.close()
        os.close(self._wake_r)
        os.close(self._wake_w)

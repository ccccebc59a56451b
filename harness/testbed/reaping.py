"""How the supervisor notices that a child exited: at once, or on a poll loop.

By default a child's pidfd sits in the loop's selector, so its exit wakes the supervisor
the instant it happens. ``--reap-poll 500ms`` instead checks every child once per period,
the way uvicorn's supervisor does (``while True: sleep(0.5); check the workers``): a death
waits for the next tick. The loop's phase is random per start (a real supervisor's is,
relative to whenever a fault comes), so kills in one trial share it (their recoveries are
correlated) while separate starts draw it afresh: what ``chaos compare`` must cope with.
"""

from __future__ import annotations

import random
import select
from collections.abc import Callable

from harness.testbed.loop import Callback, Loop


class ExitWatch:
    """Calls a child's exit callback once its pidfd is readable: at once, or at a tick."""

    def __init__(
        self, loop: Loop, poll_s: float, phase: Callable[[], float] = random.random
    ) -> None:
        self._loop = loop
        self._poll_s = poll_s
        self._phase = phase
        self._polled: dict[int, Callback] = {}
        self._started = False

    @property
    def polls(self) -> bool:
        """Whether exits are noticed on a poll loop."""
        return self._poll_s > 0

    def watch(self, pidfd: int, on_exit: Callback) -> None:
        """Call ``on_exit`` once the child behind ``pidfd`` has exited."""
        if not self.polls:
            self._loop.watch(pidfd, on_exit)
            return
        self._polled[pidfd] = on_exit
        if not self._started:
            self._started = True
            self._loop.call_later(self._phase() * self._poll_s, self._tick)

    def unwatch(self, pidfd: int) -> None:
        """Stop watching (before the pidfd is closed)."""
        if self.polls:
            self._polled.pop(pidfd, None)
        else:
            self._loop.unwatch(pidfd)

    def _tick(self) -> None:
        if self._polled:
            exited, _, _ = select.select(list(self._polled), [], [], 0)
            for pidfd in exited:
                callback = self._polled.get(pidfd)
                if callback is not None:
                    callback()
        self._loop.call_later(self._poll_s, self._tick)

"""The suite's one wait for a condition nobody notifies us of.

Prefer an event: ``Timeline.wait_for``, ``Popen.wait(timeout)``, a pipe read with a timeout.
When there is none (a ``/proc`` state, a log file's text, an HTTP status), poll with
``wait_until`` rather than sleeping a fixed time: it returns as soon as the condition holds,
and the deadline is generous because the machines are two noisy shared cores.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

TIMEOUT_S = 30.0
"""Default deadline: long enough for a loaded CI machine, only ever spent by a failing test."""
INTERVAL_S = 0.02
"""Default pause between checks: quick to notice, cheap on two cores."""


class WaitTimeout(AssertionError):
    """The awaited condition did not hold by the deadline (the test fails with this)."""

    def __init__(self, what: str, timeout: float, last: object) -> None:
        shown = repr(last)
        if len(shown) > 500:
            shown = shown[:500] + "..."
        super().__init__(f"timed out after {timeout:g}s waiting for {what}; last value: {shown}")
        self.what = what
        self.timeout = timeout
        self.last = last


def wait_until(
    condition: Callable[[], T],
    *,
    what: str,
    timeout: float = TIMEOUT_S,
    interval: float = INTERVAL_S,
) -> T:
    """Call ``condition`` until it returns something truthy, and return that value.

    It is checked at once, then every ``interval`` seconds until ``timeout`` has passed;
    then it raises ``WaitTimeout``, naming ``what`` was awaited and the last value seen.
    Exceptions from ``condition`` propagate.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise WaitTimeout(what, timeout, value)
        time.sleep(interval)

"""An undo action (thaw, release) that runs exactly once, whoever calls it first.

Faults register their undo both with ``ctx.later`` (the planned end) and with
``ctx.on_teardown`` (the trial ends first); both may fire, only the first does anything.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class Once:
    """Wrap ``action`` so that only the first call runs it; later calls return at once."""

    def __init__(self, action: Callable[[], None]) -> None:
        self._action = action
        self._lock = threading.Lock()
        self._done = False

    @property
    def done(self) -> bool:
        return self._done

    def __call__(self) -> None:
        with self._lock:
            if self._done:
                return
            self._done = True
        self._action()

"""The trial's one timeline: a thread-safe, append-only list of events on a monotonic clock.

Observers, the workload, faults and the runner all ``record`` here; subscribers (``on_spawn``
triggers) are called synchronously with each new event, so they can act within the same
millisecond a process is seen. The clock is injectable so time logic can be tested.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Protocol, TypeVar

from harness.observe.events import Event

E = TypeVar("E", bound=Event)


class Clock(Protocol):
    """Seconds on a monotonic clock; only differences are meaningful."""

    def __call__(self) -> float: ...


Subscriber = Callable[[Event], None]


class Timeline:
    """Append-only event log of one trial, safe to record from many threads."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._t0 = clock()
        self._events: list[Event] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._subscribers: list[Subscriber] = []

    @property
    def t0(self) -> float:
        """The clock reading that is ``t == 0``."""
        return self._t0

    def now(self) -> float:
        """Seconds since the trial started."""
        return self._clock() - self._t0

    def at(self, clock_reading: float) -> float:
        """Convert a raw clock reading (taken earlier) to trial time."""
        return clock_reading - self._t0

    def record(self, event: Event) -> Event:
        """Append ``event`` and notify subscribers (outside the lock)."""
        with self._changed:
            self._events.append(event)
            subscribers = list(self._subscribers)
            self._changed.notify_all()
        for subscriber in subscribers:
            subscriber(event)
        return event

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call ``subscriber`` with every future event; returns an unsubscribe function."""
        with self._lock:
            self._subscribers.append(subscriber)
        return self._unsubscriber(subscriber)

    def follow(self, subscriber: Subscriber) -> tuple[list[Event], Callable[[], None]]:
        """The events so far, and a subscription of ``subscriber`` to every later one, split
        under one lock: ``record`` appends and reads the subscribers under it, so each event
        is in exactly one of the two."""
        with self._lock:
            past = list(self._events)
            self._subscribers.append(subscriber)
        return past, self._unsubscriber(subscriber)

    def _unsubscriber(self, subscriber: Subscriber) -> Callable[[], None]:
        def unsubscribe() -> None:
            with self._lock:
                if subscriber in self._subscribers:
                    self._subscribers.remove(subscriber)

        return unsubscribe

    def events(self) -> list[Event]:
        """A snapshot of every event so far, in recording order."""
        with self._lock:
            return list(self._events)

    def of(self, kind: type[E]) -> list[E]:
        """A snapshot of the events of one type."""
        with self._lock:
            return [e for e in self._events if isinstance(e, kind)]

    def wait_for(
        self, predicate: Callable[[Event], bool], timeout: float, *, since: int = 0
    ) -> Event | None:
        """Block until an event at index >= ``since`` satisfies ``predicate`` (or timeout)."""
        deadline = time.monotonic() + timeout
        index = since
        with self._changed:
            while True:
                while index < len(self._events):
                    event = self._events[index]
                    index += 1
                    if predicate(event):
                        return event
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._changed.wait(remaining)

    def __len__(self) -> int:
        with self._lock:
            return len(self._events)

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events())

"""``Timeline.follow``: the events so far and every later one, each exactly once, however
many threads record meanwhile (what lets the nemesis offer each event to its triggers once
without remembering which it has seen)."""

from __future__ import annotations

import threading

from harness.observe.events import Event, LogLine
from harness.observe.timeline import Timeline


def _line(n: int) -> LogLine:
    return LogLine(t=float(n), instance=0, stream="stdout", line=str(n))


def test_every_event_is_either_past_or_delivered_never_both() -> None:
    timeline = Timeline()
    for n in range(50):
        timeline.record(_line(n))
    delivered: list[Event] = []
    lock = threading.Lock()

    def receive(event: Event) -> None:
        with lock:
            delivered.append(event)

    start = threading.Barrier(5)

    def writer(base: int) -> None:
        start.wait()
        for n in range(base, base + 500):
            timeline.record(_line(n))

    writers = [threading.Thread(target=writer, args=(1000 * (k + 1),)) for k in range(4)]
    for thread in writers:
        thread.start()
    start.wait()
    past, unsubscribe = timeline.follow(receive)
    for thread in writers:
        thread.join()
    unsubscribe()
    timeline.record(_line(9999))  # after unsubscribing: not delivered

    seen = [id(e) for e in past] + [id(e) for e in delivered]
    assert sorted(seen) == sorted(id(e) for e in timeline.events()[:-1])
    assert len(seen) == len(set(seen)) == 50 + 4 * 500
    assert all(isinstance(e, LogLine) and e.line != "9999" for e in delivered)

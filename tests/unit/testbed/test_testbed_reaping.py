"""``ExitWatch``: exits noticed at once through the loop's selector, or only at the ticks of
a poll loop whose phase is drawn once per start (``--reap-poll``)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from harness.testbed.cli import options_from, parser
from harness.testbed.loop import Loop
from harness.testbed.reaping import ExitWatch


@pytest.fixture
def loop() -> Iterator[Loop]:
    loop = Loop()
    yield loop
    loop.close()


def _readable_fd() -> tuple[int, int]:
    """A pipe stands in for a pidfd: readable once "the child exited" (a byte written)."""
    r, w = os.pipe()
    return r, w


def _run_until_seen(loop: Loop, watch: ExitWatch, r: int, deadline_s: float = 10.0) -> float:
    seen: list[float] = []

    def on_exit() -> None:
        seen.append(time.monotonic())
        watch.unwatch(r)
        loop.stop()

    watch.watch(r, on_exit)
    loop.call_later(deadline_s, loop.stop)
    loop.run()
    assert seen, "the exit was never noticed"
    return seen[0]


def test_without_polling_an_exit_is_noticed_at_once(loop: Loop) -> None:
    r, w = _readable_fd()
    watch = ExitWatch(loop, 0.0)
    assert not watch.polls
    os.write(w, b"x")
    start = time.monotonic()
    assert _run_until_seen(loop, watch, r) - start < 5.0
    os.close(r)
    os.close(w)


def test_a_poll_loop_notices_an_exit_only_at_its_next_tick(loop: Loop) -> None:
    r, w = _readable_fd()
    watch = ExitWatch(loop, 0.4, phase=lambda: 0.5)  # first tick 0.2 s after the first watch
    assert watch.polls
    start = time.monotonic()
    os.write(w, b"x")  # exited before the first tick
    noticed = _run_until_seen(loop, watch, r)
    assert noticed - start >= 0.19  # not before the tick, however fast the machine
    os.close(r)
    os.close(w)


def test_the_cli_takes_a_reap_poll_period() -> None:
    args = parser().parse_args(["--reap-poll", "500ms", "--data-dir", "unused"])
    assert options_from(args).reap_poll_s == 0.5
    assert options_from(parser().parse_args(["--data-dir", "unused"])).reap_poll_s == 0.0

"""``wait_until``: the truthy value as soon as it comes, or a failure that says what and why."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest
from support import WaitTimeout, wait_until


@dataclass
class Reading:
    """A falsy value that still says something, as a condition may return."""

    ok: bool
    note: str

    def __bool__(self) -> bool:
        return self.ok


def test_returns_the_first_truthy_value() -> None:
    answers = iter([None, 0, [], {"pid": 7}, {"pid": 8}])

    assert wait_until(lambda: next(answers), what="a pid", interval=0.001) == {"pid": 7}
    assert next(answers) == {"pid": 8}, "no check after the first truthy value"


def test_a_condition_already_true_returns_without_sleeping() -> None:
    began = time.monotonic()

    assert wait_until(lambda: "here", what="nothing", interval=60.0) == "here"

    assert time.monotonic() - began < 30.0


def test_the_timeout_names_what_was_awaited_and_the_last_value() -> None:
    calls = 0

    def never() -> Reading:
        nonlocal calls
        calls += 1
        return Reading(False, f"check {calls}")

    began = time.monotonic()
    with pytest.raises(WaitTimeout) as failure:
        wait_until(never, what="the moon", timeout=0.2, interval=0.01)

    assert time.monotonic() - began >= 0.2, "it waits out the whole deadline"
    assert calls > 1, "it checked again while waiting"
    assert failure.value.last == Reading(False, f"check {calls}")
    assert str(failure.value) == (
        f"timed out after 0.2s waiting for the moon; last value: "
        f"Reading(ok=False, note='check {calls}')"
    )
    assert isinstance(failure.value, AssertionError), "a test failure, not an error"


def test_a_long_last_value_is_cut_short_in_the_message() -> None:
    with pytest.raises(WaitTimeout) as failure:
        wait_until(lambda: Reading(False, "x" * 2000), what="x", timeout=0.0)

    message = str(failure.value)
    assert message.endswith("...")
    assert len(message) < 600
    assert failure.value.last == Reading(False, "x" * 2000)


def test_an_error_in_the_condition_is_not_swallowed() -> None:
    with pytest.raises(ZeroDivisionError):
        wait_until(lambda: 1 / 0, what="arithmetic")

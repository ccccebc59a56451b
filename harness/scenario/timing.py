"""When a scenario's timed faults can fire: the chaos window and each entry's base times.

Shared by the load-time checks (a firing that could never happen is the author's mistake,
found with its line) and the planner (``harness.schedule.plan``), so both count the same
firings. Times are whole microseconds after ready: integer arithmetic keeps a schedule the
same, byte for byte, wherever it is computed.

The chaos window is the observation (``duration``) less the ``phases``' warm-up at the start
and healing at the end; without ``phases`` it is the whole observation.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from harness.scenario.model import FaultEntry, PhasesSpec
from harness.scenario.parts import Parts
from harness.scenario.source import Path_, Problem

MAX_STEPS = 10_000
"""The most firings a schedule may hold: a trial is seconds to minutes, not a load test."""


def to_us(seconds: float) -> int:
    """Seconds → whole microseconds (how a schedule holds every time)."""
    return round(seconds * 1_000_000)


@dataclass(frozen=True)
class Window:
    """The chaos phase, in microseconds after ready: ``[start, end)``."""

    start: int
    end: int

    @property
    def seconds(self) -> tuple[float, float]:
        return self.start / 1e6, self.end / 1e6


def chaos_window(duration: float, phases: PhasesSpec | None) -> Window:
    """Where faults fire: after the warm-up, before the healing phase."""
    end = to_us(duration)
    if phases is None:
        return Window(0, end)
    return Window(to_us(phases.warmup), end - to_us(phases.heal))


def first_us(entry: FaultEntry, window: Window) -> int:
    """The base time of an entry's first timed firing: ``at``, else one ``every`` into the
    chaos phase."""
    if entry.at is not None:
        return to_us(entry.at)
    assert entry.every is not None
    return window.start + to_us(entry.every)


def firing_count(entry: FaultEntry, window: Window) -> int:
    """How many timed firings an entry makes (``at`` alone: one)."""
    if entry.every is None:
        return 1 if entry.at is not None else 0
    if entry.count is not None:
        return entry.count
    first, every = first_us(entry, window), max(1, to_us(entry.every))
    return 0 if first >= window.end else (window.end - first - 1) // every + 1


def base_times_us(entry: FaultEntry, window: Window) -> Iterator[int]:
    """Every base time (before jitter) of an entry's timed firings, in order."""
    count = min(firing_count(entry, window), MAX_STEPS)
    if count == 0:
        return
    first = first_us(entry, window)
    every = to_us(entry.every) if entry.every is not None else 0
    for k in range(count):
        yield first + k * every


# --------------------------------------------------------------------------- the checks


def _s(us: int | float) -> str:
    return f"{us / 1e6:g}s"


def timing_problems(parts: Parts) -> list[Problem]:
    """Phases that leave no chaos phase, and timed firings outside it (they never fire)."""
    if parts.duration is None:
        return []
    window = chaos_window(parts.duration, parts.phases)
    if parts.phases is not None and window.start >= window.end:
        phases = parts.phases
        return [
            Problem(
                ("phases",),
                f"warmup {phases.warmup:g}s and heal {phases.heal:g}s leave no chaos phase in a "
                f"duration of {parts.duration:g}s: shorten them or lengthen duration",
            )
        ]
    where = (
        f"the chaos phase ({_s(window.start)} to {_s(window.end)} after ready)"
        if parts.phases is not None
        else f"the observation (duration {_s(window.end)})"
    )
    problems: list[Problem] = []
    total = 0
    for entry in parts.faults:
        if entry.at is None and entry.every is None:
            total += 1
            continue
        total += firing_count(entry, window)
        problems += _entry_problems(entry, window, where, parts.phases)
    if total > MAX_STEPS:
        problems.append(
            Problem(("faults",), f"{total} firings; a schedule holds at most {MAX_STEPS}")
        )
    return problems


def _entry_problems(
    entry: FaultEntry, window: Window, where: str, phases: PhasesSpec | None
) -> list[Problem]:
    path: Path_ = ("faults", entry.index)
    jitter = to_us(entry.jitter)
    first = first_us(entry, window)
    count = firing_count(entry, window)
    key = "at" if entry.at is not None else "every"
    if first < window.start:
        return [
            Problem(
                (*path, key),
                f"the first firing at {_s(first)} is in the warm-up: timed faults fire in {where}",
            )
        ]
    if count == 0 or first >= window.end:
        what = "the first firing" if entry.every is not None else key
        return [
            Problem(
                (*path, key),
                f"{what} {_s(first)} is not within {where}: it would never fire; fire earlier, "
                "or lengthen duration",
            )
        ]
    last = first + (count - 1) * (to_us(entry.every) if entry.every else 0)
    latest = last + jitter  # a draw is below jitter: the firing is before ``latest``
    if (jitter and latest > window.end) or (not jitter and last >= window.end):
        what = f"the last of {count} firings" if count > 1 else "it"
        reach = f"could fire up to {_s(latest)} (jitter {_s(jitter)})"
        if not jitter:
            reach = f"would fire at {_s(last)}"
        field = "count" if entry.count is not None else ("jitter" if jitter else key)
        return [
            Problem(
                (*path, field),
                f"{what} {reach}, not within {where}: it would never fire; "
                "fire earlier, or lengthen duration",
            )
        ]
    if phases is None or not phases.heal:
        return []
    for number, choice in enumerate(entry.choices):
        lasting = getattr(choice.spec, "for_", None)
        start = f"from up to {_s(latest)}" if jitter else f"at {_s(last)}"
        spot = (*path, "mix", number, choice.kind) if entry.mix else (*path, choice.kind)
        if lasting is None and "for_" in type(choice.spec).model_fields:
            # A fault that can last, given no ``for``, lasts until teardown.
            return [
                Problem(
                    spot,
                    f"a {choice.kind} without `for` {start} lasts until teardown, so it would"
                    f" still be on when the healing phase begins at {_s(window.end)}: give it"
                    " a `for` that ends before then",
                )
            ]
        if isinstance(lasting, float) and latest + to_us(lasting) > window.end:
            return [
                Problem(
                    (*spot, "for"),
                    f"a {choice.kind} for {lasting:g}s {start} would still be "
                    f"on when the healing phase begins at {_s(window.end)}: no fault may be "
                    "on while the system heals",
                )
            ]
    return []

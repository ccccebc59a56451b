"""A schedule in words, one line per step: what ``chaos run --dry-run`` prints.

Pure text (the CLI prints it): steps in firing order (before start, then by time, then the
event triggers), each with its number, its moment, its kind, and its target as the rule
that will choose it when it fires (``1 random backend``: which process is only known
then). The same schedule gives the same lines, byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from harness.schedule.model import BEFORE, Schedule, Step
from harness.spec.regex import names_pid

_TARGET_FIELDS = ("role", "count", "which", "instance")


def seconds(value: float) -> str:
    """``2.5`` → ``2.500s``: milliseconds shown, a fixed width to scan down a column."""
    return f"{value:.3f}s"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def when(step: Step) -> str:
    """The moment a step fires, in words."""
    if step.trigger == BEFORE:
        return "before start"
    if step.timed:
        return f"at {seconds(step.at or 0.0)}"
    event: Mapping[str, Any] = step.event or {}
    nth = _ordinal(int(event.get("nth", 1)))
    where = f" of instance {event['instance']}" if event.get("instance") is not None else ""
    if step.trigger == "on_spawn":
        return f"on the {nth} spawn of {event.get('role')}{where}"
    if step.trigger == "on_log":
        role = f" naming a {event['role']}" if event.get("role") else ""
        return f"on the {nth} log line{where}{role} matching /{event.get('pattern')}/"
    if step.trigger == "on_request":
        what = "acknowledged id" if event.get("acknowledged") else "ok answer"
        return f"on the {nth} {what} of workload {event.get('workload')}{where}"
    conditions = [
        f"{name} {_value(event[name])}"
        for name in ("equals", "in", "matches", "above", "below")
        if name in event
    ]
    path = f".{event['path']}" if event.get("path") else ""
    return f"on the {nth} reading of {event.get('probe')}{path}{where} that " + " and ".join(
        conditions
    )


def target(step: Step) -> str:
    """Which processes a step will act on, as the rule that chooses them."""
    options = step.options
    event = step.event or {}
    if step.trigger == "on_spawn":
        return "the spawned process"
    if step.trigger == "on_log" and names_pid(str(event.get("pattern", ""))):
        return "the process the line names"
    role = options.get("role")
    if not isinstance(role, str):
        return ""
    count = options.get("count", 1)
    which = options.get("which", "random")
    many = "every" if count == "all" else f"{count} {which}"
    instance = options.get("instance")
    return f"{many} {role}" + (f" of instance {instance}" if instance is not None else "")


def options_text(step: Step) -> str:
    """The options other than the target's, ``key=value``; unset (null, empty) ones left out."""
    return " ".join(
        f"{key}={_value(value)}"
        for key, value in step.options.items()
        if key not in _TARGET_FIELDS and value not in (None, {}, [])
    )


def step_line(step: Step) -> str:
    """``#3  at 2.731s  kill  1 random backend  signal=SIGKILL``."""
    parts = [f"#{step.number}", when(step), step.kind]
    aim = target(step)
    if aim:
        parts.append(aim)
    rest = options_text(step)
    if rest:
        parts.append(rest)
    if step.choice is not None:
        parts.append(f"(mix choice {step.choice} of faults[{step.entry}])")
    return "  ".join(parts)


def in_firing_order(schedule: Schedule) -> list[Step]:
    """Before start, then timed steps by time, then event steps by number."""
    before = [s for s in schedule.steps if s.trigger == BEFORE]
    events = [s for s in schedule.steps if not s.timed and s.trigger != BEFORE]
    return [*before, *schedule.timed(), *events]


def describe(name: str, index: int, schedule: Schedule) -> list[str]:
    """The header line of one trial, then one line per step (indented)."""
    begin, end = schedule.chaos
    window = f"chaos {begin:g}s to {end:g}s after ready"
    if (begin, end) == (0.0, schedule.duration):
        window = f"observed {schedule.duration:g}s after ready"
    head = f"{name}#{index}  seed {schedule.seed}  {window}"
    steps = in_firing_order(schedule)
    if not steps:
        return [head, "  no faults"]
    return [
        head,
        *(f"  {step_line(step)}" for step in steps),
        *(f"  note: {n}" for n in schedule.notes),
    ]

"""Event triggers as pure matchers: recorded events in, "fire now" out.

Each matcher counts the events its trigger waits for and says ``Fired`` at the ``nth``;
it holds no thread and touches no process, so it is tested with recorded events. The
nemesis feeds it every event of the chaos phase and does the firing.

- ``on_spawn``: the nth ``ProcessStart`` of a role (and instance): its process is the target.
- ``on_log``: the nth output line ``pattern`` matches; a named group ``pid`` names the
  process the line is about (the target), and ``role`` keeps only lines that name one of
  that role (``role_of`` tells, from the trial's tracker).
- ``on_request``: the nth ok answer of a workload, or with ``acknowledged`` the nth that
  recorded an id: the moment that id was acknowledged to the client.
- ``on_probe``: the nth ok reading of a probe whose value at ``path`` meets the conditions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from harness.invariants.values import Expectation, read_path
from harness.observe.events import Event, LogLine, ProbeResult, ProcessStart, Request
from harness.scenario.model import PROBE_CONDITIONS, OnLog, OnProbe, OnRequest, OnSpawn
from harness.spec.regex import PID_GROUP, as_pid

RoleOf = Callable[[int], str | None]
"""pid → the role of that live process of the trial, ``None`` if it is not one."""


@dataclass(frozen=True)
class Fired:
    """The event that fired a trigger, and the process it names (its target), if any."""

    event: Event
    pid: int | None = None


class Matcher:
    """Counts the events a trigger waits for; ``offer`` says when the nth arrives."""

    def __init__(self, nth: int) -> None:
        self.nth = nth
        self.seen = 0

    def offer(self, event: Event) -> Fired | None:
        """``Fired`` exactly once: when the nth matching event is offered."""
        if self.seen >= self.nth:
            return None
        found = self.match(event)
        if found is None:
            return None
        self.seen += 1
        return found if self.seen == self.nth else None

    def match(self, event: Event) -> Fired | None:
        raise NotImplementedError


class SpawnMatcher(Matcher):
    def __init__(self, trigger: OnSpawn) -> None:
        super().__init__(trigger.nth)
        self.trigger = trigger

    def match(self, event: Event) -> Fired | None:
        t = self.trigger
        if not isinstance(event, ProcessStart) or event.role != t.role:
            return None
        if t.instance is not None and event.instance != t.instance:
            return None
        return Fired(event, event.pid)


class LogMatcher(Matcher):
    def __init__(self, trigger: OnLog, role_of: RoleOf) -> None:
        super().__init__(trigger.nth)
        self.trigger = trigger
        self.pattern = re.compile(trigger.pattern)
        self.role_of = role_of

    def match(self, event: Event) -> Fired | None:
        t = self.trigger
        if not isinstance(event, LogLine):
            return None
        if t.instance is not None and event.instance != t.instance:
            return None
        found = self.pattern.search(event.line)
        if found is None:
            return None
        pid = as_pid(found.groupdict().get(PID_GROUP))
        if t.role is not None and (pid is None or self.role_of(pid) != t.role):
            return None
        return Fired(event, pid)


class RequestMatcher(Matcher):
    def __init__(self, trigger: OnRequest) -> None:
        super().__init__(trigger.nth)
        self.trigger = trigger

    def match(self, event: Event) -> Fired | None:
        t = self.trigger
        if not isinstance(event, Request) or event.workload != t.workload or not event.ok:
            return None
        if t.instance is not None and event.instance != t.instance:
            return None
        if t.acknowledged and event.recorded is None:
            return None
        return Fired(event)


class ProbeMatcher(Matcher):
    def __init__(self, trigger: OnProbe) -> None:
        super().__init__(trigger.nth)
        self.trigger = trigger
        self.expectation = expectation_of(trigger)

    def match(self, event: Event) -> Fired | None:
        t = self.trigger
        if not isinstance(event, ProbeResult) or event.name != t.probe or not event.ok:
            return None
        if t.instance is not None and event.instance != t.instance:
            return None
        if not self.expectation.holds(read_path(event.value, t.path), event.instance):
            return None
        return Fired(event)


def expectation_of(trigger: OnProbe) -> Expectation:
    """The trigger's conditions as the invariants word and test them."""
    given: dict[str, Any] = {}
    for name in PROBE_CONDITIONS:
        if name in trigger.model_fields_set:
            given["in" if name == "in_" else name] = getattr(trigger, name)
    return Expectation.model_validate(given)


def matcher_for(trigger: BaseModel, role_of: RoleOf) -> Matcher:
    """The matcher of one event trigger's options."""
    if isinstance(trigger, OnSpawn):
        return SpawnMatcher(trigger)
    if isinstance(trigger, OnLog):
        return LogMatcher(trigger, role_of)
    if isinstance(trigger, OnRequest):
        return RequestMatcher(trigger)
    if isinstance(trigger, OnProbe):
        return ProbeMatcher(trigger)
    raise TypeError(f"not an event trigger: {type(trigger).__name__}")

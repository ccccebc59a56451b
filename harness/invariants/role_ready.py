"""When each process of a role was first ready, read from its log lines or probe readings.

``recovers: {until: ready}`` needs to know when *the replacement* is ready, not when some
process of the role answers: a surviving worker answering a probe says nothing about the
new one. A role's ``ready`` (``roles.R.ready``) names the evidence; this module attributes
each piece of it to one process:

- a named group ``pid`` in the log regex, or ``pid`` (a dotted path) in a probe reading,
  names the process outright (the line or reading is ignored if that pid is not a live
  process of the role on that instance, or one first seen shortly after: ``_live``);
- without a pid, a matching line or reading counts for the oldest live process of the role
  (on that instance) that is not ready yet: right when one replacement is in flight,
  a guess when several are (say so in the scenario, or give a pid).

Pure: a function of the recorded ``LogLine``/``ProbeResult`` events and the lifetimes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from harness.invariants.base import History
from harness.invariants.lifetimes import Life, Lifetimes
from harness.invariants.values import MISSING, read_path
from harness.observe.events import LogLine, ProbeResult
from harness.scenario.model import RoleReadySpec
from harness.spec.regex import PID_GROUP, as_pid

ReadyTimes = dict[int, float]
"""``id(life)`` → trial time the process was first ready."""


def ready_times(role: str, history: History, lives: Lifetimes) -> ReadyTimes | None:
    """When each process of ``role`` was first ready; ``None`` if the role declares no
    readiness (then the ready phase cannot be measured)."""
    facts = history.roles.get(role)
    spec = facts.ready if facts is not None else None
    if spec is None:
        return None
    found: ReadyTimes = {}
    for t, instance, pids in _evidence(spec, history):
        role_lives = lives.of(role, instance)
        if pids is None:
            _credit_oldest(role_lives, t, found)
        else:
            for pid in pids:
                life = _live(role_lives, pid, t)
                if life is not None:
                    found.setdefault(id(life), t)
    return found


def probe_ready_times(role: str, probe: str, history: History, lives: Lifetimes) -> ReadyTimes:
    """``recovers.probe`` (kept for old scenarios): every ok reading of ``probe`` makes the
    oldest process of the role not yet ready, ready. Unattributed: prefer ``roles.R.ready``."""
    found: ReadyTimes = {}
    for reading in history.of(ProbeResult):
        if reading.name == probe and reading.ok:
            _credit_oldest(lives.of(role, reading.instance), reading.t, found)
    return found


def _evidence(
    spec: RoleReadySpec, history: History
) -> Iterator[tuple[float, int, list[int] | None]]:
    """``(t, instance, pids named or None)`` for every line or reading that shows readiness."""
    if spec.log is not None:
        pattern = re.compile(spec.log)
        named = PID_GROUP in pattern.groupindex
        for line in history.of(LogLine):
            match = pattern.search(line.line)
            if match is None:
                continue
            pid = as_pid(match.group(PID_GROUP)) if named else None
            if named and pid is None:
                continue
            yield line.t, line.instance, [pid] if pid is not None else None
        return
    for reading in history.of(ProbeResult):
        if reading.name != spec.probe or not reading.ok:
            continue
        if spec.pid is None:
            if not spec.conditions or _holds(spec, read_path(reading.value, spec.path)):
                yield reading.t, reading.instance, None
            continue
        pids = [
            pid
            for pid, holder in _pids_at(reading.value, spec.pid.split("."), None)
            if not spec.conditions or _holds(spec, read_path(holder, spec.path))
        ]
        if pids:
            yield reading.t, reading.instance, pids


def _pids_at(value: Any, steps: list[str], holder: Any) -> Iterator[tuple[int, Any]]:
    """Every ``(pid, object holding it)`` the path reaches; ``*`` is any key or index."""
    if not steps:
        pid = as_pid(value)
        if pid is not None:
            yield pid, holder
        return
    step, rest = steps[0], steps[1:]
    if step == "*":
        children = list(value.values()) if isinstance(value, dict) else value
        if isinstance(children, list):
            for child in children:
                yield from _pids_at(child, rest, value)
        return
    child = read_path(value, step)
    if child is not MISSING:
        yield from _pids_at(child, rest, value)


def _holds(spec: RoleReadySpec, value: Any) -> bool:
    if value is MISSING:
        return False
    if "equals" in spec.model_fields_set and value != spec.equals:
        return False
    return spec.in_ is None or value in spec.in_


SIGHTING_LAG_S = 2.0
"""How long before the tracker's first sighting of a pid a line naming it still counts for
that process (see ``_live``)."""


def _live(role_lives: list[Life], pid: int, t: float) -> Life | None:
    """The process of ``pid`` a line or reading at ``t`` is about.

    The process alive at ``t``; else the next one of that pid, if the tracker first saw it
    within ``SIGHTING_LAG_S`` after ``t``: a process that says it is ready existed when it
    said so, and on a loaded machine its line can be read before the tracker notices the
    fork (up to 130 ms measured, with 50 processes starting at once). Its ready time is
    then counted from the sighting (``Phase.first`` counts a process from its start).
    """
    later = [life for life in role_lives if life.pid == pid and t <= life.exit]
    if not later:
        return None
    life = min(later, key=lambda life: life.start)
    return life if life.start - t <= SIGHTING_LAG_S else None


def _credit_oldest(role_lives: list[Life], t: float, found: ReadyTimes) -> None:
    waiting = [life for life in role_lives if life.alive_at(t) and id(life) not in found]
    if waiting:
        found[id(min(waiting, key=lambda life: life.start))] = t

"""The typed events of a trial's timeline.

Every event has ``t``: seconds since the trial started, on one monotonic clock. Observers
create events, checkers read them, the journal stores them as ``{"t", "type", ...fields}``
and ``event_from_dict`` brings them back, so a journal can be re-judged without re-running
(history first, judgement after).

``instance`` is the 0-based index of the system copy an event belongs to (``instances: N``);
``role`` is the scenario's role name for a process, or ``None`` when no role matched.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from harness.spec.effects import Effect

# --------------------------------------------------------------------------- enum-like fields


class FaultPhase(StrEnum):
    """Where in its life a fault action is: a window opens (``start``) or closes (``end``),
    a one-shot act (``instant``), or nothing found to act on (``miss``)."""

    START = "start"
    END = "end"
    INSTANT = "instant"
    MISS = "miss"

    @property
    def injects(self) -> bool:
        """Whether a fault was injected here (a window opened, or a one-shot act)."""
        return self in (FaultPhase.START, FaultPhase.INSTANT)


class TeardownStep(StrEnum):
    """``stop``: the stop signal to a root; ``sweep``: SIGKILL of a survivor of the tree
    after the grace; ``orphan``: an escapee found by the post-teardown scan, then killed."""

    STOP = "stop"
    SWEEP = "sweep"
    ORPHAN = "orphan"


class NoteLevel(StrEnum):
    """How much a harness note matters: an ``error`` note keeps a trial from passing."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


# --------------------------------------------------------------------------- base


@dataclass(frozen=True, kw_only=True)
class Event:
    """Something that happened at ``t`` seconds after the trial started."""

    type: ClassVar[str] = "event"
    t: float


_EVENT_TYPES: dict[str, type[Event]] = {}


def _event(cls: type[Event]) -> type[Event]:
    _EVENT_TYPES[cls.type] = cls
    return cls


# --------------------------------------------------------------------------- trial phases


@_event
@dataclass(frozen=True, kw_only=True)
class Phase(Event):
    """The runner entered a phase: launch, ready, faults, settle, teardown, done."""

    type: ClassVar[str] = "phase"
    name: str


@_event
@dataclass(frozen=True, kw_only=True)
class SystemStart(Event):
    """The harness launched one instance of the system (its root process)."""

    type: ClassVar[str] = "system_start"
    instance: int
    pid: int
    command: list[str]
    cwd: str


@_event
@dataclass(frozen=True, kw_only=True)
class Ready(Event):
    """An instance passed every readiness check; ``groups`` from the log pattern."""

    type: ClassVar[str] = "ready"
    instance: int
    elapsed_s: float
    groups: dict[str, str] = field(default_factory=dict)


@_event
@dataclass(frozen=True, kw_only=True)
class NotReady(Event):
    """An instance did not become ready before its deadline (or exited first)."""

    type: ClassVar[str] = "not_ready"
    instance: int
    reason: str
    output_tail: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- processes


@_event
@dataclass(frozen=True, kw_only=True)
class ProcessStart(Event):
    """A process appeared in the system's tree (``t`` is when it was first seen)."""

    type: ClassVar[str] = "process_start"
    pid: int
    ppid: int
    instance: int
    role: str | None
    cmdline: list[str]
    root: bool = False


@_event
@dataclass(frozen=True, kw_only=True)
class ProcessExit(Event):
    """A process of the system's tree ended.

    ``code``/``signal`` are known when the harness reaped it (its own child, or an orphan
    re-parented to the harness as child subreaper); ``None`` when its own parent reaped it.
    """

    type: ClassVar[str] = "process_exit"
    pid: int
    instance: int
    role: str | None
    code: int | None = None
    signal: str | None = None


@_event
@dataclass(frozen=True, kw_only=True)
class PortListen(Event):
    """A process of the system started listening on a TCP port."""

    type: ClassVar[str] = "port_listen"
    pid: int
    instance: int
    role: str | None
    port: int
    address: str = "127.0.0.1"


@_event
@dataclass(frozen=True, kw_only=True)
class LogLine(Event):
    """One line the system's root wrote to stdout or stderr."""

    type: ClassVar[str] = "log"
    instance: int
    stream: str
    line: str


# --------------------------------------------------------------------------- observations


@_event
@dataclass(frozen=True, kw_only=True)
class ProbeResult(Event):
    """One reading of a named probe. ``value`` is the decoded JSON body (or text)."""

    type: ClassVar[str] = "probe"
    name: str
    instance: int
    ok: bool
    status: int | None = None
    value: Any = None
    error: str | None = None
    latency_s: float = 0.0


@_event
@dataclass(frozen=True, kw_only=True)
class Request(Event):
    """One workload request; ``t`` is when it was sent, ``latency_s`` how long it took.

    ``ok`` is the workload's own success rule (2xx by default); ``recorded`` holds the field
    named by the workload's ``record`` (an acknowledged id for the ledger), if any.
    """

    type: ClassVar[str] = "request"
    workload: str
    instance: int
    ok: bool
    status: int | None = None
    latency_s: float = 0.0
    error: str | None = None
    recorded: Any = None
    body: Any = None


@_event
@dataclass(frozen=True, kw_only=True)
class Lookup(Event):
    """An end-of-trial lookup of one recorded id (ledger invariant): what the system said."""

    type: ClassVar[str] = "lookup"
    workload: str
    instance: int
    key: str
    status: int | None = None
    value: Any = None
    error: str | None = None


# --------------------------------------------------------------------------- faults and teardown


@_event
@dataclass(frozen=True, kw_only=True)
class FaultAction(Event):
    """A fault did something (``phase``: ``start``, ``end``, ``instant``) or missed.

    ``fault`` is the index of the fault in the scenario's schedule, ``kind`` its name
    (``kill``, ``freeze``, ...), ``effect`` what the action does to the processes it names
    (checkers read the effect, never the kind). ``pids`` are the processes it touched;
    ``phase="miss"`` with ``detail["reason"]`` when it found nothing to act on (its
    ``effect`` is then what it meant to do).
    """

    type: ClassVar[str] = "fault"
    fault: int
    kind: str
    phase: FaultPhase
    effect: Effect = Effect.NONE
    role: str | None = None
    pids: list[int] = field(default_factory=list)
    instance: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@_event
@dataclass(frozen=True, kw_only=True)
class Teardown(Event):
    """A teardown step: ``stop`` (stop signal to a root), ``sweep`` (SIGKILL of a survivor
    of the tree after the grace), ``orphan`` (found by the post-teardown scan, then killed).
    """

    type: ClassVar[str] = "teardown"
    action: TeardownStep
    pid: int | None = None
    instance: int | None = None
    role: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@_event
@dataclass(frozen=True, kw_only=True)
class HarnessNote(Event):
    """Something the harness wants on the record (a probe that could not be parsed...)."""

    type: ClassVar[str] = "note"
    level: NoteLevel
    message: str


# --------------------------------------------------------------------------- (de)serialisation


def event_to_dict(event: Event) -> dict[str, Any]:
    """``{"t": ..., "type": ..., **fields}``, JSON-ready."""
    data: dict[str, Any] = {"t": round(event.t, 6), "type": event.type}
    for f in dataclasses.fields(event):
        if f.name != "t":
            data[f.name] = getattr(event, f.name)
    return data


_LEGACY_EFFECTS = {
    ("kill", "instant"): Effect.ENDS,
    ("kill", "miss"): Effect.ENDS,
    ("freeze", "start"): Effect.STOPS,
    ("freeze", "miss"): Effect.STOPS,
    ("freeze", "end"): Effect.RESUMES,
}
"""Journals written before fault actions carried their effect: what those kinds did."""


_ENUM_FIELDS: dict[type[Event], dict[str, type[StrEnum]]] = {}


def _enum_fields(cls: type[Event]) -> dict[str, type[StrEnum]]:
    """The fields of ``cls`` typed with an enum, by name (computed once per class)."""
    found = _ENUM_FIELDS.get(cls)
    if found is None:
        found = {}
        for name, hint in typing.get_type_hints(cls).items():
            for candidate in (hint, *typing.get_args(hint)):
                if isinstance(candidate, type) and issubclass(candidate, StrEnum):
                    found[name] = candidate
        _ENUM_FIELDS[cls] = found
    return found


def event_from_dict(data: dict[str, Any]) -> Event:
    """Inverse of ``event_to_dict``; unknown keys of a newer writer are ignored."""
    cls = _EVENT_TYPES.get(str(data.get("type")))
    if cls is None:
        raise ValueError(f"unknown event type {data.get('type')!r}")
    names = {f.name for f in dataclasses.fields(cls)}
    values = {k: v for k, v in data.items() if k in names}
    if cls is FaultAction and "effect" not in values:
        legacy = (str(values.get("kind")), str(values.get("phase")))
        values["effect"] = _LEGACY_EFFECTS.get(legacy)
    for name, enum in _enum_fields(cls).items():
        value = values.get(name)
        if value is not None:
            values[name] = enum(value)
        elif name in values:
            del values[name]  # the field's default
    return cls(**values)


def event_types() -> dict[str, type[Event]]:
    """Every known event type by its ``type`` string."""
    return dict(_EVENT_TYPES)

"""A trial's schedule as data: what fires when, computed before the trial runs.

A ``Schedule`` is a list of ``Step``s, each one firing of one fault: a number (recorded as
``fault`` on every action it causes), the scenario entry it came from, the kind and its
options as JSON, and its trigger: a time after ready (``at``, jitter already drawn),
``before`` start, or an event trigger (``on_spawn``, ``on_log``, ``on_request``,
``on_probe``) with its options. Steps are numbered in scenario order, each entry's
firings in time order, so a scenario of single triggers numbers its steps as its entries.

It is plain data so that ``--dry-run`` prints it, the journal stores it, ``chaos replay``
reads it back and runs exactly it, and ``chaos shrink`` edits it. ``to_json`` is canonical:
the same scenario and seed give the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from harness.scenario.model import EVENT_TRIGGERS

VERSION = 1
TIMED = "at"
BEFORE = "before"


class ScheduleError(ValueError):
    """A stored schedule that cannot be read back (a journal from elsewhere, or edited)."""


@dataclass(frozen=True)
class Step:
    """One firing of one fault."""

    number: int
    """Its number: what its fault actions record as ``fault``."""
    entry: int
    """The index of the scenario's fault entry it came from."""
    kind: str
    options: Mapping[str, Any]
    """The fault's options as JSON (``model_dump(mode="json", by_alias=True)``)."""
    trigger: str
    """``at``, ``before``, or an event trigger's name."""
    at: float | None = None
    """Seconds after ready (timed steps), jitter included; whole microseconds."""
    event: Mapping[str, Any] | None = None
    """The event trigger's options as JSON (event steps)."""
    choice: int | None = None
    """Which fault of the entry's ``mix`` was drawn."""

    @property
    def timed(self) -> bool:
        return self.trigger == TIMED

    def moved(self, at: float) -> Step:
        """The same step at another time (shrinking)."""
        return replace(self, at=round(at, 6))

    def with_options(self, options: Mapping[str, Any]) -> Step:
        return replace(self, options=dict(options))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "number": self.number,
            "entry": self.entry,
            "kind": self.kind,
            "trigger": self.trigger,
        }
        if self.at is not None:
            data["at"] = self.at
        if self.event is not None:
            data["event"] = dict(self.event)
        if self.choice is not None:
            data["choice"] = self.choice
        data["options"] = dict(self.options)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Step:
        try:
            step = cls(
                number=_int(data["number"]),
                entry=_int(data["entry"]),
                kind=str(data["kind"]),
                options=dict(data.get("options") or {}),
                trigger=str(data["trigger"]),
                at=float(data["at"]) if data.get("at") is not None else None,
                event=dict(data["event"]) if data.get("event") is not None else None,
                choice=_int(data["choice"]) if data.get("choice") is not None else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ScheduleError(f"malformed step {dict(data)!r}: {exc}") from None
        if step.trigger not in (TIMED, BEFORE, *EVENT_TRIGGERS):
            raise ScheduleError(f"step {step.number}: unknown trigger {step.trigger!r}")
        if step.timed != (step.at is not None):
            raise ScheduleError(f"step {step.number}: a timed step needs 'at', no other has it")
        return step


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a whole number, got {value!r}")
    return value


@dataclass(frozen=True)
class Schedule:
    """Every step of one trial, with the seed and the chaos window they were drawn for."""

    seed: int
    steps: tuple[Step, ...] = ()
    chaos: tuple[float, float] = (0.0, 0.0)
    """The chaos phase, seconds after ready: timed steps fire and event triggers count in it."""
    duration: float = 0.0
    """The observation it was planned for (``duration``)."""
    notes: tuple[str, ...] = field(default=())
    """What changed it since it was planned (``chaos shrink``: "removed #2 ...")."""

    def timed(self) -> list[Step]:
        """Timed steps in firing order (time, then number)."""
        return sorted((s for s in self.steps if s.timed), key=lambda s: (s.at or 0.0, s.number))

    def with_steps(self, steps: list[Step] | tuple[Step, ...]) -> Schedule:
        return replace(self, steps=tuple(sorted(steps, key=lambda s: s.number)))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "version": VERSION,
            "seed": self.seed,
            "chaos": [self.chaos[0], self.chaos[1]],
            "duration": self.duration,
            "steps": [s.to_dict() for s in self.steps],
        }
        if self.notes:
            data["notes"] = list(self.notes)
        return data

    def to_json(self) -> str:
        """Canonical text: sorted keys, no spaces. Equal schedules, equal bytes."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: Any) -> Schedule:
        """Read a stored schedule back; ``ScheduleError`` says what is wrong with it."""
        if not isinstance(data, Mapping):
            raise ScheduleError(f"expected a schedule object, got {type(data).__name__}")
        if data.get("version") != VERSION:
            raise ScheduleError(f"unknown schedule version {data.get('version')!r}")
        try:
            chaos = data.get("chaos") or [0.0, 0.0]
            steps = tuple(Step.from_dict(s) for s in data.get("steps") or [])
            return cls(
                seed=_int(data["seed"]),
                steps=steps,
                chaos=(float(chaos[0]), float(chaos[1])),
                duration=float(data.get("duration", 0.0)),
                notes=tuple(str(n) for n in data.get("notes") or []),
            )
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            if isinstance(exc, ScheduleError):
                raise
            raise ScheduleError(f"malformed schedule: {exc}") from None

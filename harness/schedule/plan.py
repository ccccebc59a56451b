"""The planner: a scenario and a trial's seed → that trial's ``Schedule``. Pure.

Every draw comes from a random stream of its own per fault entry, seeded from (the trial's
seed, the entry's index): the same seed gives the same schedule byte for byte, another seed
another, and removing one entry (shrinking) leaves every other entry's draws as they were.

The generators, a small set after Jepsen's (``jepsen.generator``):

- ``at: T`` fires once at T after ready (Jepsen: ``once`` after ``sleep``);
- ``jitter: J`` adds ``u``, drawn uniformly from ``[0, J)``, to each timed firing
  (Jepsen's ``stagger`` draws from ``[0, 2dt)``; here the window is explicit);
- ``every: P`` fires at ``at`` (default: one period into the chaos phase), then every P,
  ``count`` times or until the chaos phase ends (``delay`` + ``repeat`` + ``time-limit``);
- ``mix: [...]`` draws one of several faults at each firing (``mix``);
- ``phases: {warmup, heal}`` keeps the start and the end of the observation fault-free
  (``phases`` of a quiet generator, the nemesis, and a quiet one).

Event triggers are steps too: their options are planned, their moment is the event's.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from harness.faults.base import FaultPlugin
from harness.faults.registry import FAULTS
from harness.scenario.model import (
    EVENT_TRIGGERS,
    FaultEntry,
    OnLog,
    OnProbe,
    OnRequest,
    OnSpawn,
    PhasesSpec,
    Scenario,
)
from harness.scenario.timing import Window, base_times_us, chaos_window
from harness.schedule.model import BEFORE, TIMED, Schedule, ScheduleError, Step
from harness.spec.kinds import FaultSpec
from harness.spec.registry import Registry

EVENT_MODELS: dict[str, type[BaseModel]] = {
    "on_spawn": OnSpawn,
    "on_log": OnLog,
    "on_request": OnRequest,
    "on_probe": OnProbe,
}


def entry_stream(seed: int, entry: int) -> random.Random:
    """The random stream of one entry's draws in one trial (string seeds hash with SHA-512:
    the same on every machine and in every process)."""
    return random.Random(f"chaos-schedule:{seed}:{entry}")


def plan(scenario: Scenario, seed: int) -> Schedule:
    """The schedule trial ``seed`` of ``scenario`` runs."""
    return plan_entries(scenario.faults, seed, scenario.duration, scenario.phases)


def plan_entries(
    entries: Sequence[FaultEntry],
    seed: int,
    duration: float,
    phases: PhasesSpec | None = None,
) -> Schedule:
    """The schedule of ``entries`` for a trial of ``seed`` observed for ``duration``."""
    window = chaos_window(duration, phases)
    steps: list[Step] = []
    for entry in entries:
        for step in _entry_steps(entry, entry_stream(seed, entry.index), window):
            steps.append(replace(step, number=len(steps)))
    return Schedule(seed=seed, steps=tuple(steps), chaos=window.seconds, duration=duration)


def _entry_steps(entry: FaultEntry, rng: random.Random, window: Window) -> list[Step]:
    """One entry's steps (numbered later), in firing order."""
    choices = entry.choices

    def step(trigger: str, at_us: int | None = None, event: BaseModel | None = None) -> Step:
        picked = rng.randrange(len(choices)) if entry.mix is not None else None
        choice = choices[picked or 0]
        return Step(
            number=-1,
            entry=entry.index,
            kind=choice.kind,
            options=choice.spec.model_dump(mode="json", by_alias=True),
            trigger=trigger,
            at=None if at_us is None else at_us / 1_000_000,
            # As written: the conditions an on_probe was given are the ones it tests.
            event=None
            if event is None
            else event.model_dump(mode="json", by_alias=True, exclude_unset=True),
            choice=picked,
        )

    if entry.before is not None:
        return [step(BEFORE)]
    for name in EVENT_TRIGGERS:
        trigger = getattr(entry, name)
        if trigger is not None:
            return [step(name, event=trigger)]
    jitter_us = round(entry.jitter * 1_000_000)
    drawn: list[Step] = []
    for base in base_times_us(entry, window):  # per firing: its jitter, then its mix draw
        offset = rng.randrange(jitter_us) if jitter_us > 0 else 0
        drawn.append(step(TIMED, base + offset))
    return sorted(drawn, key=lambda s: s.at or 0.0)


# --------------------------------------------------------------------------- binding


@dataclass(frozen=True)
class Bound:
    """A step with what running it needs: its fault kind, its options validated by that
    kind's model, and its event trigger's model (event steps)."""

    step: Step
    fault: FaultPlugin
    spec: FaultSpec
    trigger: BaseModel | None = None


def bind(schedule: Schedule, faults: Registry[FaultPlugin] = FAULTS) -> list[Bound]:
    """Validate every step against the fault registry: options a kind refuses, an unknown
    kind or trigger, are a ``ScheduleError`` before anything runs (a journal from another
    version, an edited one)."""
    bound: list[Bound] = []
    for step in schedule.steps:
        if step.kind not in faults:
            raise ScheduleError(f"step #{step.number}: unknown fault kind {step.kind!r}")
        fault = faults.get(step.kind)
        spec = _validated(fault.spec, step.options, f"step #{step.number} ({step.kind})")
        trigger = None
        if step.trigger in EVENT_MODELS:
            model = EVENT_MODELS[step.trigger]
            trigger = _validated(model, step.event or {}, f"step #{step.number} {step.trigger}")
        bound.append(Bound(step, fault, spec, trigger))
    return bound


M = TypeVar("M", bound=BaseModel)


def _validated(model: type[M], data: object, what: str) -> M:
    try:
        return model.model_validate_json(json.dumps(data))
    except (ValidationError, TypeError, ValueError) as exc:
        raise ScheduleError(f"{what}: {exc}") from None

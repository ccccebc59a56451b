"""Shards: one deterministic split of a run's trials, so N machines run each exactly once.

We do not schedule across machines. An engine people already run (a CI matrix, a
Kubernetes Indexed Job, a shell loop) starts N copies of ``chaos run --shard K/N`` with the
same paths, options and ``--seed``; each computes the same partition from the same trials,
runs its part, and ``chaos report`` merges the journals (``harness.results.merge``).

So the partition depends only on the trials: each scenario's name, its trial indices and
its expected trial time. Never on the host (a scenario this host must skip still has its
trials assigned, so another host's shard does not shift), nor on the order the files were
found in. A trial's seed is ``trial_seed(base, scenario, index)`` (``harness.run.runner``):
trial I gets the same seed whichever shard runs it.

Balance: the longest expected trial first, each to the least loaded shard (ties: the
lowest shard number), the classic LPT rule. The expected loads of any two shards differ by
at most one trial's expected time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from harness.scenario.model import Scenario

STARTUP_S = 1.0
"""What a trial costs beyond its ``duration``: launch, readiness and teardown (0.3 to 2 s
for the testbed's scenarios on a 2-core machine)."""

_SHARD = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count``, numbered from 1 (``--shard 2/4``)."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1 or not 1 <= self.index <= self.count:
            raise ValueError(f"shard {self.index}/{self.count}: K must be 1 to N")

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``"2/4"`` → ``Shard(2, 4)``; ``ValueError`` says what a shard looks like."""
        match = _SHARD.fullmatch(text)
        if not match:
            raise ValueError(f"expected K/N such as 2/4, got {text!r}")
        index, count = int(match.group(1)), int(match.group(2))
        if count < 1:
            raise ValueError(f"{text!r}: N must be at least 1")
        if index == 0:
            raise ValueError(
                f"{text!r}: K counts from 1 (1/{count} to {count}/{count}); from a 0-based "
                "index such as Kubernetes' JOB_COMPLETION_INDEX, add 1"
            )
        if index > count:
            raise ValueError(f"{text!r}: K must be at most N ({count})")
        return cls(index, count)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


@dataclass(frozen=True, order=True)
class Trial:
    """One trial of the plan: a scenario's name and the trial's index in it."""

    scenario: str
    index: int


@dataclass(frozen=True)
class Work:
    """What the partition needs to know of a scenario."""

    scenario: str
    trials: int
    seconds: float
    """The expected time of one of its trials."""


def expected_seconds(scenario: Scenario) -> float:
    """One trial's expected time: its ``duration`` plus start and stop, at most its
    ``timeout`` (a trial is cut there)."""
    return min(scenario.timeout, scenario.duration + STARTUP_S)


def work_of(scenarios: Iterable[Scenario]) -> list[Work]:
    return [Work(s.name, s.repeat, expected_seconds(s)) for s in scenarios]


def partition(work: Sequence[Work], count: int) -> list[list[Trial]]:
    """Every trial of ``work`` in exactly one of ``count`` lists (shard 1 first), each
    sorted; the same for the same work in any order."""
    if count < 1:
        raise ValueError(f"cannot split into {count} shards")
    seconds = {w.scenario: w.seconds for w in work}
    trials = sorted(
        (Trial(w.scenario, i) for w in work for i in range(w.trials)),
        key=lambda t: (-seconds[t.scenario], t.scenario, t.index),
    )
    loads = [0.0] * count
    shards: list[list[Trial]] = [[] for _ in range(count)]
    for trial in trials:
        lightest = min(range(count), key=lambda k: (loads[k], k))
        shards[lightest].append(trial)
        loads[lightest] += seconds[trial.scenario]
    return [sorted(s) for s in shards]


def owned(scenarios: Sequence[Scenario], shard: Shard | None) -> dict[str, list[int]]:
    """Scenario name → the trial indices this run executes: all of them without a shard."""
    if shard is None:
        return {s.name: list(range(s.repeat)) for s in scenarios}
    mine = partition(work_of(scenarios), shard.count)[shard.index - 1]
    indices: dict[str, list[int]] = {s.name: [] for s in scenarios}
    for trial in mine:
        indices[trial.scenario].append(trial.index)
    return indices


def load_of(scenarios: Sequence[Scenario], indices: dict[str, list[int]]) -> float:
    """The expected seconds of the trials in ``indices`` (what ``--shard`` announces)."""
    seconds = {s.name: expected_seconds(s) for s in scenarios}
    return sum(seconds[name] * len(found) for name, found in indices.items())

"""What a run produced: verdicts per invariant, per trial, per scenario. Pure data.

The journal (``harness.results.journal``) writes these as JSON; reporters read them. A trial's
``events`` are the full timeline, so anything can be re-rendered or re-judged later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.observe.events import Event
from harness.spec.verdict import InvariantResult, Outcome, Verdict, outcome


def merge_metrics(invariants: list[InvariantResult]) -> dict[str, Any]:
    """A trial's metrics: the union of its invariants' metrics (lists are concatenated, so
    ``recovery_s`` holds one value per fault whichever invariants measured them)."""
    metrics: dict[str, Any] = {}
    for inv in invariants:
        for key, value in inv.metrics.items():
            if isinstance(value, list):
                existing = metrics.setdefault(key, [])
                if isinstance(existing, list):
                    existing.extend(value)
            else:
                metrics.setdefault(key, value)
    return metrics


@dataclass
class TrialResult:
    """One trial end to end."""

    index: int
    verdict: Verdict
    duration_s: float
    invariants: list[InvariantResult] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    error: str | None = None
    output_tail: list[str] = field(default_factory=list)
    seed: int | None = None
    vars: dict[str, str] = field(default_factory=dict)
    schedule: dict[str, Any] | None = None
    """The schedule that ran, as ``harness.schedule.Schedule.to_dict`` writes it (``None``
    in journals written before schedules were stored)."""


@dataclass
class ScenarioResult:
    """All trials of one scenario file."""

    name: str
    file: str
    tags: list[str] = field(default_factory=list)
    description: str = ""
    trials: list[TrialResult] = field(default_factory=list)
    skipped: str | None = None
    digest: str | None = None
    """The scenario file's version: ``sha256:`` of its YAML content in canonical JSON
    (``harness.run.fingerprint``); ``None`` without a file, or in an older journal."""
    expected_failure: str | None = None
    """The reason of the scenario's ``expect: fail`` (``None``: expected to pass, or an
    older journal): its failed trials are ``xfail``, its passed ones ``xpass``."""

    def outcome_of(self, trial: TrialResult) -> Outcome:
        """One trial's verdict read against the scenario's expectation."""
        return outcome(trial.verdict, self.expected_failure)

    @property
    def outcome(self) -> Outcome:
        """The scenario's verdict read against its expectation (``xpass`` if any trial
        passed an ``expect: fail``, as one unexpected pass is enough to say so)."""
        if self.expected_failure is None or self.skipped is not None or not self.trials:
            return outcome(self.verdict, None)
        outcomes = {self.outcome_of(t) for t in self.trials}
        for worst in (Outcome.ERROR, Outcome.XPASS):
            if worst in outcomes:
                return worst
        return Outcome.XFAIL

    @property
    def verdict(self) -> Verdict:
        if self.skipped is not None:
            return Verdict.SKIP
        verdicts = {t.verdict for t in self.trials}
        for worst in (Verdict.ERROR, Verdict.FAIL):
            if worst in verdicts:
                return worst
        return Verdict.PASS if self.trials else Verdict.SKIP


@dataclass
class Source:
    """One journal that a merged journal was made from (``chaos report J1 J2...``)."""

    journal: str
    """The path it was read from, as given."""
    started: str
    shard: str | None = None
    seed: int | None = None
    trials: int = 0


@dataclass
class HostUse:
    """How the run held and watched the system (the journal's ``harness`` section).

    ``containment``: ``cgroup`` or ``marker``; ``process_events``: ``netlink`` or ``scan``;
    each ``*_detail`` says where, or why the fallback. ``leftovers``: what earlier, dead
    runs had left and this run ended first, one line each.
    """

    containment: str
    containment_detail: str = ""
    process_events: str = ""
    process_events_detail: str = ""
    leftovers: list[str] = field(default_factory=list)


@dataclass
class RunResult:
    """A whole ``chaos run``: what the journal holds."""

    started: str
    scenarios: list[ScenarioResult] = field(default_factory=list)
    harness_version: str = ""
    argv: list[str] = field(default_factory=list)
    seed: int | None = None
    finished: str | None = None
    plan: dict[str, int] = field(default_factory=dict)
    """Every scenario the run selected → its trials in all shards (``scenarios`` holds
    only this shard's); what a merge checks for trials that no journal holds."""
    shard: str | None = None
    """``K/N`` when this run was one shard of the plan (``chaos run --shard``)."""
    merged_from: list[Source] = field(default_factory=list)
    """The journals merged into this one; empty for a journal a run wrote."""
    host: HostUse | None = None
    """None in a journal written before containment was recorded."""

    def outcomes(self) -> list[Outcome]:
        """Every trial's outcome, in order."""
        return [s.outcome_of(t) for s in self.scenarios for t in s.trials]

    def summary(self) -> dict[str, int]:
        """Counts by outcome: ``failed`` are unexpected failures only; ``xfailed`` failed as
        expected, ``xpassed`` passed an ``expect: fail`` (both 0 without one)."""
        outcomes = self.outcomes()
        return {
            "scenarios": len(self.scenarios),
            "trials": len(outcomes),
            "passed": outcomes.count(Outcome.PASS),
            "failed": outcomes.count(Outcome.FAIL),
            "errors": outcomes.count(Outcome.ERROR),
            "skipped": sum(s.skipped is not None for s in self.scenarios),
            "xfailed": outcomes.count(Outcome.XFAIL),
            "xpassed": outcomes.count(Outcome.XPASS),
        }

"""What a run produced: verdicts per invariant, per trial, per scenario. Pure data.

The journal (``harness.results.journal``) writes these as JSON; reporters read them. A trial's
``events`` are the full timeline, so anything can be re-rendered or re-judged later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.observe.events import Event
from harness.spec.verdict import InvariantResult, Verdict


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

    def summary(self) -> dict[str, int]:
        trials = [t for s in self.scenarios for t in s.trials]
        return {
            "scenarios": len(self.scenarios),
            "trials": len(trials),
            "passed": sum(t.verdict is Verdict.PASS for t in trials),
            "failed": sum(t.verdict is Verdict.FAIL for t in trials),
            "errors": sum(t.verdict is Verdict.ERROR for t in trials),
            "skipped": sum(s.skipped is not None for s in self.scenarios),
        }

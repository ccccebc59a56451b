"""``chaos trend JOURNAL...``: recovery per phase and availability over many runs, in order.

``compare`` answers "is head slower than base?"; a regression that creeps in over ten
versions needs the whole series. Each journal is one point: per scenario, the median over
its trials of each recovery phase (one value per trial, as ``compare`` counts them) and of
availability. Points are ordered by version, else by date, else as the files were given
(``order``), and labelled with the version, the commit and the date the journal's
``harness`` section holds. Each point is compared with the one before by
``harness.report.compare.compare`` itself: a point is marked where ``chaos compare
PREVIOUS THIS`` would have flagged a regression, with its reason. Nothing is decided here
that ``compare`` does not decide.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from harness.report.compare import PHASE_METRICS, Change, compare, trial_units
from harness.report.stats import median
from harness.results import journal
from harness.results.model import RunResult

AVAILABILITY = "availability"


class Order(StrEnum):
    """How points are put in order."""

    AUTO = "auto"
    """By version when every journal has a different one, else by date."""
    VERSION = "version"
    DATE = "date"
    FILES = "files"
    """As the files were given."""


@dataclass(frozen=True)
class Point:
    """One journal: its run and what says where it stands in the series."""

    path: Path
    run: RunResult
    version: str = ""
    commit: str = ""
    date: str = ""

    @property
    def label(self) -> str:
        """``0.3.1 @ 1a2b3c4`` or the date, or the file name: what the axis shows."""
        parts = [p for p in (self.version, self.commit[:7]) if p]
        return " @ ".join(parts) if parts else (self.date[:16] or self.path.name)


def read_point(path: Path) -> Point:
    """Load one journal (``JournalError`` says what is wrong with it) with the version,
    commit and date its ``harness`` section and start time give."""
    data = journal.read_data(path)
    run = journal.run_from_dict(data)
    harness: dict[str, Any] = data.get("harness") or {}
    commit = harness.get("commit") or harness.get("revision") or ""
    date = harness.get("date") or run.started or ""
    return Point(path, run, str(harness.get("version") or ""), str(commit), str(date))


def version_key(version: str) -> tuple[tuple[int, str], ...]:
    """``0.10.2`` after ``0.9.9``: numbers compared as numbers, the rest as text."""
    return tuple(
        (int(part), "") if part.isdigit() else (-1, part)
        for part in re.findall(r"\d+|[a-z]+", version.lower())
    )


def ordered(points: Sequence[Point], order: Order = Order.AUTO) -> tuple[list[Point], Order]:
    """The points in series order, and the order used (``auto`` resolved)."""
    if order is Order.AUTO:
        versions = [p.version for p in points]
        if all(versions) and len(set(versions)) == len(versions):
            order = Order.VERSION
        elif all(p.date for p in points):
            order = Order.DATE
        else:
            order = Order.FILES
    if order is Order.VERSION:
        return sorted(points, key=lambda p: version_key(p.version)), order
    if order is Order.DATE:
        return sorted(points, key=lambda p: p.date), order
    return list(points), order


@dataclass(frozen=True)
class Flag:
    """``compare`` flagged this metric of this scenario against the previous point."""

    reason: str


@dataclass
class Series:
    """One scenario across the points: per metric, the point's value (``None``: none)."""

    scenario: str
    values: dict[str, list[float | None]] = field(default_factory=dict)
    flags: dict[tuple[str, int], Flag] = field(default_factory=dict)
    """(metric, point index) → why ``compare`` called it a regression."""

    @property
    def metrics(self) -> list[str]:
        """The metrics some point measured, phases in recovery order, availability last."""
        return [m for m in (*PHASE_METRICS, AVAILABILITY) if m in self.values]


@dataclass
class Trend:
    points: list[Point]
    order: Order
    series: list[Series]
    threshold: float
    alpha: float
    min_delta: float

    @property
    def flagged(self) -> int:
        """How many (scenario, metric, point) compare would have flagged."""
        return sum(len(s.flags) for s in self.series)


def _value(run: RunResult, scenario: str, metric: str) -> float | None:
    for s in run.scenarios:
        if s.name == scenario:
            units, _ = trial_units(s.trials, metric)
            return median(units) if units else None
    return None


def trend(
    points: Sequence[Point],
    *,
    order: Order = Order.AUTO,
    threshold: float = 0.10,
    alpha: float = 0.05,
    min_delta: float = 0.0,
) -> Trend:
    """The series of every scenario over ``points``, and where compare flags a step."""
    chosen, used = ordered(points, order)
    names = list(dict.fromkeys(s.name for p in chosen for s in p.run.scenarios))
    series = {name: Series(name) for name in names}
    for name in names:
        for metric in (*PHASE_METRICS, AVAILABILITY):
            values = [_value(p.run, name, metric) for p in chosen]
            if any(v is not None for v in values):
                series[name].values[metric] = values
    for i in range(1, len(chosen)):
        base, head = chosen[i - 1].run, chosen[i].run
        rows = compare(base, head, threshold=threshold, alpha=alpha, min_delta=min_delta).scenarios
        rows += compare(base, head, metric=AVAILABILITY, threshold=threshold, alpha=alpha).scenarios
        for row in rows:
            if row.change is Change.REGRESSED and row.name in series:
                series[row.name].flags[(row.metric, i)] = Flag(row.reason)
    return Trend(chosen, used, list(series.values()), threshold, alpha, min_delta)


def metric_label(metric: str) -> str:
    """``recovery_ready_s`` → ``ready``."""
    if metric.startswith("recovery_") and metric.endswith("_s"):
        return metric.removeprefix("recovery_").removesuffix("_s")
    return metric


def value_text(metric: str, value: float | None) -> str:
    """``412 ms``, ``99.20%``, or ``-``."""
    if value is None:
        return "-"
    if metric == AVAILABILITY:
        return f"{value * 100:.2f}%"
    return f"{value * 1000:.0f} ms"

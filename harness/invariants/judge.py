"""Judgement: run every invariant of a scenario over a recorded timeline.

Pure: the same events always give the same verdicts. ``chaos report --scenario`` uses it to
re-judge an old journal without re-running anything.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.invariants.base import History, RoleFacts
from harness.invariants.registry import INVARIANTS
from harness.observe.events import Event
from harness.scenario.model import Scenario
from harness.spec.verdict import InvariantResult, Verdict


def history_of(scenario: Scenario, events: Sequence[Event]) -> History:
    """The events plus the scenario facts a checker needs to read them."""
    return History(
        events=list(events),
        roles={
            name: RoleFacts(count=spec.count, root=spec.root, ready=spec.ready)
            for name, spec in scenario.roles.items()
        },
        instances=scenario.system.instances,
        probes=tuple(scenario.probes),
        workloads=tuple(w.name for w in scenario.workload),
    )


def judge(scenario: Scenario, events: Sequence[Event]) -> list[InvariantResult]:
    """One result per invariant, in the scenario's order. A checker that raises is our
    bug: it becomes an ``error`` verdict naming the checker, never a lost trial."""
    history = history_of(scenario, events)
    results: list[InvariantResult] = []
    for entry in scenario.invariants:
        checker = INVARIANTS.get(entry.kind)
        try:
            results.append(checker.judge(entry.spec, history))
        except Exception as exc:
            results.append(
                InvariantResult(
                    kind=entry.kind,
                    verdict=Verdict.ERROR,
                    detail=f"checker {entry.kind!r} crashed: {exc!r} (please report this bug)",
                    spec=entry.spec.model_dump(mode="json"),
                )
            )
    return results

"""``ledger``: every acknowledged id is found, settled, and never done twice; ``collect``
polls until settled and records one lookup per id."""

from __future__ import annotations

import time
from typing import Any

from timelines import backend_system

from harness.invariants.base import History
from harness.invariants.ledger import LedgerSpec, check, collect
from harness.observe.events import Lookup, Request
from harness.observe.timeline import Timeline
from harness.spec.verdict import Verdict

SPEC = LedgerSpec.model_validate(
    {
        "workload": "jobs",
        "lookup": "http://127.0.0.1:{port}/jobs/{id}",
        "settle": "1s",
        "final": {"path": "state", "in": ["finished", "failed"]},
        "never": {"path": "runs", "above": 1},
    }
)


def test_every_id_accounted_for_passes_with_counts() -> None:
    story = backend_system().request(1.0, "jobs", recorded="a").request(1.1, "jobs", recorded=7)
    story.request(1.2, "jobs", ok=False, status=503)  # never acknowledged: not owed
    story.lookup(9.0, "a", {"state": "finished", "runs": 1})
    story.lookup(9.0, "7", {"state": "failed", "runs": 0})
    res = check(SPEC, story.history())
    assert res.verdict is Verdict.PASS
    assert res.metrics == {
        "acknowledged": 2,
        "lost": 0,
        "unsettled": 0,
        "duplicated": 0,
        "ledger": {"failed": 1, "finished": 1},
    }


def test_lost_unsettled_and_duplicated_ids_fail() -> None:
    story = backend_system()
    for t, key in [(1.0, "lost"), (1.1, "gone"), (1.2, "stuck"), (1.3, "twice")]:
        story.request(t, "jobs", recorded=key)
    story.lookup(9.0, "gone", None, status=404)
    story.lookup(9.0, "stuck", {"state": "claimed", "runs": 1})
    story.lookup(9.0, "twice", {"state": "finished", "runs": 2})
    res = check(SPEC, story.history())
    assert res.verdict is Verdict.FAIL
    assert "2 lost: lost (no lookup); gone (status 404)" in res.detail
    assert "1 not settled: stuck (state='claimed')" in res.detail
    assert "1 with runs too high: twice (runs=2)" in res.detail
    assert res.metrics["lost"] == 2
    assert res.metrics["unsettled"] == 1
    assert res.metrics["duplicated"] == 1
    assert res.metrics["ledger"] == {"<lost>": 2, "claimed": 1, "finished": 1}
    assert res.evidence == [1.0, 1.1, 1.2, 1.3]


def test_a_job_that_never_settles_is_counted_as_unsettled_not_hidden_as_lost_0() -> None:
    story = backend_system().request(1.0, "jobs", recorded="slow")
    story.lookup(9.0, "slow", {"state": "ready", "runs": 0})
    res = check(SPEC, story.history())
    assert res.verdict is Verdict.FAIL
    assert (res.metrics["lost"], res.metrics["unsettled"]) == (0, 1)
    assert "1 not settled: slow (state='ready')" in res.detail


def test_nothing_acknowledged_fails() -> None:
    res = check(SPEC, backend_system().request(1.0, "jobs", ok=False, status=500).history())
    assert res.verdict is Verdict.FAIL
    assert res.detail == "no acknowledged jobs request recorded an id; nothing to judge"
    assert res.metrics == {"acknowledged": 0}


class FakeSystem:
    """A CollectContext over a real timeline and an in-memory job store."""

    def __init__(self, answers: dict[str, list[tuple[int | None, Any]]]) -> None:
        self.timeline = Timeline()
        self.deadline = time.monotonic() + 30.0
        self.settle_started = time.monotonic()
        self.answers = answers
        self.calls: list[str] = []

    def resolve(self, template: str, instance: int = 0) -> str:
        return template.replace("{port}", "4000").replace("{{", "{").replace("}}", "}")

    def http_json(self, method: str, url: str, timeout: float) -> tuple[int | None, Any, None]:
        self.calls.append(url)
        key = url.rsplit("/", 1)[1]
        queue = self.answers[key]
        status, value = queue.pop(0) if len(queue) > 1 else queue[0]
        return status, value, None


def test_collect_polls_until_settled_and_records_the_last_reading() -> None:
    system = FakeSystem(
        {
            "a": [(200, {"state": "running"}), (200, {"state": "finished", "runs": 1})],
            "b": [(404, None)],
        }
    )
    for key in ("a", "b"):
        system.timeline.record(Request(t=1.0, workload="jobs", instance=0, ok=True, recorded=key))
    collect(SPEC, system)
    lookups = {e.key: e for e in system.timeline.of(Lookup)}
    assert lookups["a"].value == {"state": "finished", "runs": 1}
    assert lookups["b"].status == 404
    assert system.calls.count("http://127.0.0.1:4000/jobs/a") == 2
    assert system.calls.count("http://127.0.0.1:4000/jobs/b") >= 2  # retried until settle
    res = check(SPEC, History(events=system.timeline.events()))
    assert res.verdict is Verdict.FAIL
    assert "1 lost: b (status 404)" in res.detail


RETRIES = LedgerSpec.model_validate(
    {
        "workload": "poison",
        "lookup": "http://127.0.0.1:{port}/jobs/{id}",
        "settle": "20s",
        "final": {"path": "state", "in": ["failed"]},
        "never": {"path": "attempts", "above": 2},
    }
)


def test_an_id_above_never_is_decided_at_once_not_after_the_whole_settle() -> None:
    """A poison job re-queued a third time can never come back under the limit: polling it
    on for the rest of a generous ``settle`` would only slow the failing verdict."""
    system = FakeSystem(
        {
            "p": [
                (200, {"state": "ready", "attempts": 2}),
                (200, {"state": "ready", "attempts": 3}),
            ],
            "q": [(200, {"state": "failed", "attempts": 2})],
        }
    )
    for key in ("p", "q"):
        system.timeline.record(Request(t=1.0, workload="poison", instance=0, ok=True, recorded=key))
    started = time.monotonic()
    collect(RETRIES, system)
    assert time.monotonic() - started < 5.0  # far inside the 20 s settle
    assert system.calls.count("http://127.0.0.1:4000/jobs/p") == 2
    res = check(RETRIES, History(events=system.timeline.events()))
    assert res.verdict is Verdict.FAIL
    assert "1 with attempts too high: p (attempts=3)" in res.detail
    # Its polling stopped at the break, so it is not also claimed to be unsettled.
    assert (res.metrics["unsettled"], res.metrics["duplicated"]) == (0, 1)
    assert "not settled" not in res.detail

"""The schedule in the journal: stored byte for byte as planned, validated by the schema,
read back as it was, and journals from before schedules still readable."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from schedule_cases import rich

from harness.results import journal
from harness.results.model import RunResult, ScenarioResult, TrialResult
from harness.schedule.model import Schedule
from harness.schedule.plan import plan
from harness.schedule.replay import stored_schedule
from harness.spec.verdict import Verdict


def _schema() -> dict[str, Any]:
    text = files("harness.results").joinpath("journal.schema.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _run(schedule: dict[str, Any] | None) -> RunResult:
    trial = TrialResult(index=0, verdict=Verdict.FAIL, duration_s=1.0, seed=7, schedule=schedule)
    return RunResult(
        started="2025-01-01T00:00:00+00:00",
        seed=7,
        scenarios=[ScenarioResult(name="rich", file="rich.yaml", trials=[trial])],
    )


def test_the_journal_stores_the_schedule_as_planned(tmp_path: Path) -> None:
    planned = plan(rich(), 7)
    path = tmp_path / "journal.json"
    journal.write(_run(planned.to_dict()), path)

    data = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(_schema()).validate(data)
    stored = data["scenarios"][0]["trials"][0]["schedule"]
    assert json.dumps(stored, sort_keys=True, separators=(",", ":")) == planned.to_json()
    back = stored_schedule(journal.read(path).scenarios[0].trials[0])
    assert back == planned


def test_a_journal_from_before_schedules_still_reads(tmp_path: Path) -> None:
    data = journal.run_to_dict(_run(None))
    del data["scenarios"][0]["trials"][0]["schedule"]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    jsonschema.Draft202012Validator(_schema()).validate(data)
    trial = journal.read(path).scenarios[0].trials[0]
    assert trial.schedule is None
    assert stored_schedule(trial) is None


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda s: s["steps"][0].update(trigger="soon"), "'soon'"),
        (lambda s: s.update(version=2), "1 was expected"),
        (lambda s: s["steps"][0].pop("options"), "'options' is a required"),
    ],
)
def test_the_schema_refuses_a_broken_schedule(mutate: Any, where: str) -> None:
    data = journal.run_to_dict(_run(plan(rich(), 7).to_dict()))
    data = json.loads(json.dumps(data))
    mutate(data["scenarios"][0]["trials"][0]["schedule"])
    with pytest.raises(jsonschema.ValidationError, match=where):
        jsonschema.Draft202012Validator(_schema()).validate(data)


def test_an_empty_schedule_round_trips() -> None:
    empty = Schedule(seed=3, duration=2.0, chaos=(0.0, 2.0))
    assert Schedule.from_dict(json.loads(empty.to_json())) == empty

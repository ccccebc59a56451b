"""The journal: round trip, atomic replacement, and the JSON Schema in the repository."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from harness.results import journal
from harness.results.model import TrialResult
from harness.spec.verdict import Verdict

from .fixtures import realistic_run


def _schema() -> dict[str, Any]:
    text = files("harness.results").joinpath("journal.schema.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def test_schema_is_valid_draft_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(_schema())


def test_a_written_journal_validates(tmp_path: Path) -> None:
    path = tmp_path / "journal.json"
    journal.write(realistic_run(), path)
    jsonschema.Draft202012Validator(_schema()).validate(json.loads(path.read_text()))


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda d: d["scenarios"][0]["trials"][0]["events"][0].pop("t"), "'t' is a required"),
        (lambda d: d["scenarios"][0]["trials"][0].update(verdict="maybe"), "'maybe'"),
        (lambda d: d["scenarios"][0]["trials"][0]["metrics"].update(recovery_s=[-1]), "-1"),
        (lambda d: d.update(schema="chaos-journal/0"), "chaos-journal/1"),
    ],
)
def test_schema_rejects_broken_journals(mutate: Any, where: str) -> None:
    data = journal.run_to_dict(realistic_run())
    data = json.loads(json.dumps(data))
    mutate(data)
    with pytest.raises(jsonschema.ValidationError, match=where):
        jsonschema.Draft202012Validator(_schema()).validate(data)


def test_round_trip_keeps_everything(tmp_path: Path) -> None:
    run = realistic_run()
    path = tmp_path / "journal.json"
    journal.write(run, path)
    back = journal.read(path)
    assert journal.run_to_dict(back) == json.loads(path.read_text())
    assert back.scenarios[0].trials[2].events == run.scenarios[0].trials[2].events
    assert back.scenarios[0].trials[2].invariants == run.scenarios[0].trials[2].invariants
    assert back.scenarios[2].skipped == run.scenarios[2].skipped
    assert back.summary() == run.summary()


def test_a_crash_mid_write_leaves_the_previous_journal(tmp_path: Path) -> None:
    path = tmp_path / "journal.json"
    run = realistic_run()
    journal.write(run, path)
    before = path.read_text()

    class Unserialisable:
        def __str__(self) -> str:
            raise RuntimeError("boom while serialising")

    run.scenarios[0].trials.append(
        TrialResult(
            index=3, verdict=Verdict.PASS, duration_s=1.0, metrics={"odd": Unserialisable()}
        )
    )
    with pytest.raises(RuntimeError, match="boom"):
        journal.write(run, path)
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["journal.json"]


def test_not_a_journal_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text('{"schema": "something-else"}')
    with pytest.raises(journal.JournalError, match="not a chaos-journal/1 journal"):
        journal.read(path)

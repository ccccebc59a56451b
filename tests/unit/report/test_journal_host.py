"""The journal's ``harness`` section says which containment and process source a run used."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from rich.console import Console

from harness.report.console import RunProgress
from harness.results import journal
from harness.results.model import HostUse

from .fixtures import realistic_run

USED = HostUse(
    containment="cgroup",
    containment_detail="cgroup v2 at /sys/fs/cgroup/unified/chaos",
    process_events="netlink",
    process_events_detail="netlink proc connector",
    leftovers=["cgroup chaos/run-1-2-3-1 of dead harness 2: ended 1 process(es) (9 sleep 306)"],
)


def _validator() -> jsonschema.Draft202012Validator:
    text = files("harness.results").joinpath("journal.schema.json").read_text(encoding="utf-8")
    return jsonschema.Draft202012Validator(json.loads(text))


def test_what_a_run_used_is_written_validated_and_read_back(tmp_path: Path) -> None:
    run = realistic_run()
    run.host = USED
    path = tmp_path / "journal.json"
    journal.write(run, path)
    data = json.loads(path.read_text())
    _validator().validate(data)
    assert data["harness"]["containment"] == {"mode": "cgroup", "detail": USED.containment_detail}
    assert data["harness"]["process_events"]["source"] == "netlink"
    assert data["harness"]["leftovers"] == USED.leftovers
    assert journal.read(path).host == USED


def test_an_older_journal_without_it_still_reads(tmp_path: Path) -> None:
    data = journal.run_to_dict(realistic_run())
    assert set(data["harness"]) == {"version", "argv", "seed"}, "nothing recorded: nothing said"
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data))
    assert journal.read(path).host is None
    _validator().validate(data)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda h: h.update(containment={"mode": "jail"}),
        lambda h: h.update(process_events={"detail": "no source"}),
    ],
)
def test_the_schema_knows_the_modes(mutate: Any) -> None:
    run = realistic_run()
    run.host = USED
    data = json.loads(json.dumps(journal.run_to_dict(run)))
    mutate(data["harness"])
    with pytest.raises(jsonschema.ValidationError):
        _validator().validate(data)


def test_the_run_header_is_one_line_and_names_what_dead_runs_left() -> None:
    console = Console(record=True, width=200, force_terminal=False)
    with RunProgress(console) as progress:
        progress.run_started(USED, "containment cgroup v2 at X; process events netlink; pidfd")
    lines = console.export_text().splitlines()
    assert lines[0] == "host: containment cgroup v2 at X; process events netlink; pidfd"
    assert lines[1].startswith("left by an earlier run, now ended: cgroup chaos/run-1-2-3-1")
    quiet = Console(record=True, quiet=True)
    RunProgress(quiet).run_started(USED, "anything")
    assert quiet.export_text() == ""

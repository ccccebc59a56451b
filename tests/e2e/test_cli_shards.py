"""``chaos run --shard K/N`` and ``chaos report JOURNAL...``: shards merged equal one run.

One suite (a passing scenario, one that catches a slow restart, one this host must skip)
runs twice with the same ``--seed``: once whole, once as three shards side by side. The
merged journal and JUnit of the shards must equal the single run's in counts, verdicts,
trial indices and seeds; the skip is reported once; a shard left out is named. A
scenario file changed between two shards is refused by the merge (exit 2, both journals
named) unless ``--allow-mixed``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from e2e_support import Chaos, read_journal, supervisor_scenario
from junitparser import JUnitXml

pytestmark = pytest.mark.e2e

SEED = "4242"
SKIPPED = "        requires: [chaos-test-no-such-tool]\n"


@dataclass(frozen=True)
class Sharded:
    runner: Chaos
    whole: Path
    shards: list[Path]
    """Each shard's ``--out`` folder, shard 1 first."""


@pytest.fixture(scope="module")
def sharded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sharded]:
    runner = Chaos(home=tmp_path_factory.mktemp("shards"))
    runner.tmpdir.mkdir()
    runner.scenario("suite/quick.yaml", supervisor_scenario("quick", duration="1.5s"))
    runner.scenario(
        "suite/slow.yaml",
        supervisor_scenario("slow", restart_delay="1.5", within="300ms", duration="2.5s"),
    )
    runner.scenario("suite/absent.yaml", supervisor_scenario("absent").rstrip(" ") + SKIPPED)
    common = ("run", "suite", "--repeat", "2", "--seed", SEED, "-q")
    try:
        whole = runner.start(*common, "--jobs", "2", "--out", "whole")
        shards = [runner.start(*common, "--shard", f"{k}/3", "--out", f"s{k}") for k in (1, 2, 3)]
        results = [runner.finish(p) for p in (whole, *shards)]
        assert results[0].returncode == 1, results[0]  # the slow restart is caught
        for k, result in enumerate(results[1:], start=1):  # where its trials landed
            journal = read_journal(runner.home / f"s{k}" / "journal.json")
            failed = any(t["verdict"] == "fail" for s in journal["scenarios"] for t in s["trials"])
            assert result.returncode == (1 if failed else 0), result
        assert runner.problems() == []
        yield Sharded(runner, runner.home / "whole", [runner.home / f"s{k}" for k in (1, 2, 3)])
    finally:
        runner.cleanup()


def trials(journal: dict[str, Any]) -> list[tuple[str, str, list[tuple[int, str, int]]]]:
    return [
        (s["name"], s["verdict"], [(t["index"], t["verdict"], t["seed"]) for t in s["trials"]])
        for s in journal["scenarios"]
    ]


def junit_cases(path: Path) -> list[tuple[str, str]]:
    cases = [c for suite in JUnitXml.fromfile(str(path)) for c in suite]
    return sorted((c.name, type(c.result[0]).__name__ if c.result else "passed") for c in cases)


def test_every_trial_ran_in_exactly_one_shard(sharded: Sharded) -> None:
    whole = read_journal(sharded.whole / "journal.json")
    ran = [
        (s["name"], t["index"])
        for out in sharded.shards
        for s in read_journal(out / "journal.json")["scenarios"]
        for t in s["trials"]
    ]
    assert sorted(ran) == sorted(
        (s["name"], t["index"]) for s in whole["scenarios"] for t in s["trials"]
    )
    for k, out in enumerate(sharded.shards, start=1):
        journal = read_journal(out / "journal.json")
        assert journal["plan"]["shard"] == f"{k}/3"
        assert journal["plan"]["scenarios"] == whole["plan"]["scenarios"]


def test_merged_shards_equal_one_run(sharded: Sharded) -> None:
    chaos = sharded.runner
    journals = [out / "journal.json" for out in sharded.shards]

    result = chaos.run(
        "report", *journals, "--json", "merged/journal.json", "--junit", "--md", "--out", "merged"
    )

    assert result.returncode == 1, result  # as the run: the slow restart is caught
    assert "warning" not in result.stderr, result
    whole = read_journal(sharded.whole / "journal.json")
    merged = read_journal(chaos.home / "merged" / "journal.json")
    assert merged["summary"] == whole["summary"]
    assert merged["summary"]["skipped"] == 1
    assert trials(merged) == trials(whole)
    assert [s["digest"] for s in merged["scenarios"]] == [s["digest"] for s in whole["scenarios"]]
    assert all(s["digest"].startswith("sha256:") for s in merged["scenarios"])
    assert [m["shard"] for m in merged["merged_from"]] == ["1/3", "2/3", "3/3"]
    assert junit_cases(chaos.home / "merged" / "junit.xml") == junit_cases(
        sharded.whole / "junit.xml"
    )
    assert "quick" in (chaos.home / "merged" / "summary.md").read_text(encoding="utf-8")


def test_a_shard_left_out_is_named(sharded: Sharded) -> None:
    chaos = sharded.runner
    journals = [sharded.shards[0] / "journal.json", sharded.shards[2] / "journal.json"]

    result = chaos.run("report", *journals)

    assert "warning: no journal of shard(s) 2/3" in result.stderr, result
    held = read_journal(sharded.shards[1] / "journal.json")
    count = sum(len(s["trials"]) for s in held["scenarios"])
    assert count > 0  # the suite's six trials over three shards: every shard holds some
    assert f"warning: {count} of 6 planned trial(s) are in no journal" in result.stderr, result


def test_a_rerun_of_a_shard_replaces_its_trials(sharded: Sharded) -> None:
    chaos = sharded.runner
    journals = [out / "journal.json" for out in sharded.shards]

    again = chaos.run(
        "run", "suite", "--repeat", "2", "--seed", SEED, "--shard", "1/3", "--out", "rerun", "-q"
    )
    result = chaos.run(
        "report", *journals, chaos.home / "rerun" / "journal.json", "--json", "m.json"
    )

    first = read_journal(sharded.shards[0] / "journal.json")
    failed = any(t["verdict"] == "fail" for s in first["scenarios"] for t in s["trials"])
    assert again.returncode == (1 if failed else 0), again
    count = sum(len(s["trials"]) for s in first["scenarios"])
    assert count > 0
    assert f"warning: {count} trial(s) of {sharded.shards[0] / 'journal.json'} are also in" in (
        result.stderr
    ), result
    merged = read_journal(chaos.home / "m.json")
    assert (
        merged["summary"]["trials"]
        == read_journal(sharded.whole / "journal.json")["summary"]["trials"]
    )
    assert chaos.problems() == []


# --------------------------------------------------------------------------- refusals


def test_shard_needs_a_seed_and_counts_from_one(chaos: Chaos) -> None:
    scenario = chaos.scenario("quick.yaml", supervisor_scenario("quick"))

    unseeded = chaos.run("run", scenario, "--shard", "1/2")
    zero = chaos.run("run", scenario, "--shard", "0/2", "--seed", "1")

    assert unseeded.returncode == 2, unseeded
    assert "--shard 1/2 needs --seed N, the same in every shard" in unseeded.stderr
    assert zero.returncode == 2, zero
    assert "K counts from 1" in zero.stderr
    assert "add 1" in zero.stderr
    assert not (chaos.home / "reports").exists()  # nothing was started


def test_a_shard_without_trials_writes_an_empty_journal(chaos: Chaos) -> None:
    scenario = chaos.scenario("quick.yaml", supervisor_scenario("quick"))

    result = chaos.run("run", scenario, "--shard", "3/3", "--seed", "1", "--out", "s3")

    assert result.returncode == 0, result
    assert "shard 3/3: 0 of 1 trial(s)" in result.stdout
    journal = read_journal(chaos.home / "s3" / "journal.json")
    assert journal["scenarios"] == []
    assert journal["plan"] == {"shard": "3/3", "scenarios": [{"name": "quick", "trials": 1}]}


def test_journals_of_different_scenario_versions_are_not_merged(chaos: Chaos) -> None:
    path = chaos.scenario("quick.yaml", supervisor_scenario("quick", duration="1.5s"))
    first = chaos.run("run", path, "--repeat", "2", "--seed", "5", "--shard", "1/2", "--out", "a")
    path.write_text(path.read_text().replace("within: 1s", "within: 2s"), encoding="utf-8")
    second = chaos.run("run", path, "--repeat", "2", "--seed", "5", "--shard", "2/2", "--out", "b")
    assert (first.returncode, second.returncode) == (0, 0), (first, second)

    refused = chaos.run("report", "a/journal.json", "b/journal.json", "--json", "m.json")

    assert refused.returncode == 2, refused
    assert "cannot merge journals of different versions of a scenario" in refused.stderr
    assert "scenario 'quick': file content differs: sha256:" in refused.stderr
    assert "in a/journal.json" in refused.stderr
    assert "in b/journal.json" in refused.stderr
    assert "--allow-mixed" in refused.stderr
    assert not (chaos.home / "m.json").exists()

    allowed = chaos.run(
        "report", "a/journal.json", "b/journal.json", "--allow-mixed", "--json", "m.json"
    )

    assert allowed.returncode == 0, allowed
    assert "warning: merged anyway (--allow-mixed)" in allowed.stderr
    merged = read_journal(chaos.home / "m.json")
    assert merged["summary"]["trials"] == 2
    assert merged["scenarios"][0]["digest"] is None

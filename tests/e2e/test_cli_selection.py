"""Run options: ``--fail-fast`` stops after a failure, ``-k`` selects by tag, ``--repeat``
and ``--seed`` shape the run and are recorded in the journal."""

from __future__ import annotations

import pytest
from e2e_support import Chaos, read_journal, supervisor_scenario

pytestmark = pytest.mark.e2e

NEVER_READY = """\
    name: a-never-ready
    tags: [broken]
    timeout: 20s
    system:
      command: ["{python}", "{SYSTEMS}/never_ready.py"]
      ready: {log: 'listening', timeout: 1s}
      stop: {signal: SIGTERM, grace: 2s}
    duration: 1s
    """


def test_fail_fast_stops_after_the_first_failure(chaos: Chaos) -> None:
    suite = chaos.home / "suite"
    chaos.scenario("suite/a.yaml", NEVER_READY)
    chaos.scenario("suite/b.yaml", supervisor_scenario("b-restart", duration="1500ms"))

    result = chaos.run("run", suite, "--fail-fast", "--jobs", "1")

    assert result.returncode == 1, result
    journal = read_journal(chaos.home / "reports" / "journal.json")
    trials = {s["name"]: [t["verdict"] for t in s["trials"]] for s in journal["scenarios"]}
    assert trials == {"a-never-ready": ["fail"], "b-restart": []}


def test_fail_fast_in_parallel_lets_running_trials_finish(chaos: Chaos) -> None:
    suite = chaos.home / "suite"
    chaos.scenario("suite/a.yaml", NEVER_READY)
    chaos.scenario("suite/b.yaml", supervisor_scenario("b-restart", duration="3s"))
    chaos.scenario("suite/c.yaml", supervisor_scenario("c-restart", duration="1500ms"))

    result = chaos.run("run", suite, "--fail-fast", "--jobs", "2")

    assert result.returncode == 1, result
    journal = read_journal(chaos.home / "reports" / "journal.json")
    trials = {s["name"]: [t["verdict"] for t in s["trials"]] for s in journal["scenarios"]}
    # a fails while b (started beside it) runs: b is judged in full, c never starts.
    assert trials == {"a-never-ready": ["fail"], "b-restart": ["pass"], "c-restart": []}


def test_without_fail_fast_every_scenario_runs(chaos: Chaos) -> None:
    suite = chaos.home / "suite"
    chaos.scenario("suite/a.yaml", NEVER_READY)
    chaos.scenario("suite/b.yaml", supervisor_scenario("b-restart", duration="1500ms"))

    result = chaos.run("run", suite, "--jobs", "1")

    assert result.returncode == 1, result
    journal = read_journal(chaos.home / "reports" / "journal.json")
    trials = {s["name"]: [t["verdict"] for t in s["trials"]] for s in journal["scenarios"]}
    assert trials == {"a-never-ready": ["fail"], "b-restart": ["pass"]}


def test_k_repeat_and_seed(chaos: Chaos) -> None:
    suite = chaos.home / "suite"
    chaos.scenario("suite/a.yaml", NEVER_READY)
    chaos.scenario(
        "suite/b.yaml", supervisor_scenario("b-restart", duration="1500ms", tags="[quick, tiny]")
    )

    result = chaos.run("run", suite, "-k", "quick", "--repeat", "2", "--seed", "4242")

    assert result.returncode == 0, result
    journal = read_journal(chaos.home / "reports" / "journal.json")
    assert journal["harness"]["seed"] == 4242
    (scenario,) = journal["scenarios"]
    assert scenario["name"] == "b-restart"
    assert [t["index"] for t in scenario["trials"]] == [0, 1]
    assert all(t["verdict"] == "pass" for t in scenario["trials"])
    seeds = [t["seed"] for t in scenario["trials"]]
    assert len(set(seeds)) == 2, "each trial has its own seed, derived from --seed"


def test_the_same_seed_gives_the_same_trial_seeds(chaos: Chaos) -> None:
    path = chaos.scenario("b.yaml", supervisor_scenario("b-restart", duration="1500ms"))
    seeds = []
    for out in ("one", "two"):
        result = chaos.run("run", path, "--seed", "7", "--out", out)
        assert result.returncode == 0, result
        journal = read_journal(chaos.home / out / "journal.json")
        seeds.append([t["seed"] for t in journal["scenarios"][0]["trials"]])
    assert seeds[0] == seeds[1]

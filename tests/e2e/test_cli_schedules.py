"""Schedules from the command line: ``run --dry-run`` on the whole suite, the schedule each
trial ran in its journal, the command that reruns a failed trial alone, ``chaos replay``
running a stored schedule exactly, and ``chaos shrink`` refusing what it cannot shrink."""

from __future__ import annotations

import json
import re
import shlex
import time
from typing import Any

import pytest
from e2e_support import ROOT, Chaos, read_journal

from harness.run.catalog import load_all, load_scenario
from harness.run.runner import trial_seed
from harness.schedule.describe import describe
from harness.schedule.plan import plan

pytestmark = pytest.mark.e2e


def jittered(name: str, *, delay: str = "0", at: str = "300ms") -> str:
    """The tiny supervisor, its worker killed twice at jittered moments."""
    return f"""\
        name: {name}
        timeout: 30s
        vars: {{delay: "{delay}"}}
        system:
          command: ["{{python}}", "{{SYSTEMS}}/supervisor.py", --port, "{{port}}",
                    --restart-delay, "{{delay}}"]
          ready: {{log: 'worker listening on \\d+', timeout: 20s}}
          stop: {{signal: SIGTERM, grace: 3s}}
        roles:
          supervisor: {{root: true}}
          worker: {{cmdline: 'systems/worker\\.py', count: 1}}
        faults:
          - at: {at}
            every: 700ms
            count: 2
            jitter: 200ms
            kill: {{role: worker, signal: SIGKILL}}
        duration: 2s
        invariants:
          - recovers: {{role: worker, within: 500ms}}
        """


def _trials(journal: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for s in journal["scenarios"] for t in s["trials"]]


def _kills(trial: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in trial["events"] if e["type"] == "fault" and e["phase"] != "miss"]


def _ready_t(trial: dict[str, Any]) -> float:
    return float(next(e["t"] for e in trial["events"] if e["type"] == "ready"))


def test_dry_run_prints_every_trial_of_the_suite_and_starts_nothing(chaos: Chaos) -> None:
    suite = ROOT / "scenarios"
    begun = time.monotonic()
    first = chaos.run("run", suite, "--dry-run", "--seed", "7", "--repeat", "3", "--out", "out")
    second = chaos.run("run", suite, "--dry-run", "--seed", "7", "--repeat", "3", "--out", "out")

    assert first.returncode == 0, first
    assert time.monotonic() - begun < 30
    assert first.stdout == second.stdout, "the same seed prints the same schedules"
    assert not (chaos.home / "out").exists(), "no journal, no report: nothing ran"
    scenarios = load_all([suite])
    heads = re.findall(r"^(\S+)#(\d+)  seed (-?\d+)", first.stdout, re.M)
    assert len(heads) == 3 * len(scenarios)
    for scenario in scenarios:
        for index in range(3):
            seed = trial_seed(7, scenario.name, index)
            lines = describe(scenario.name, index, plan(scenario, seed))
            assert "\n".join(lines) in first.stdout, (scenario.name, index)
    tick = re.search(r"^backend-kill-tick#0 .*?(?=^\S)", first.stdout, re.M | re.S)
    assert tick is not None
    assert len(re.findall(r"at \d+\.\d{3}s  kill  1 random backend", tick.group(0))) == 4
    other = chaos.run("run", suite, "--dry-run", "--seed", "8", "-k", "tick")
    assert other.stdout.split("\n")[1:] != first.stdout.split("\n")[1:]


def test_dry_run_of_each_shard_prints_that_shards_trials_and_together_the_whole(
    chaos: Chaos,
) -> None:
    suite = ROOT / "scenarios"
    whole = chaos.run("run", suite, "--dry-run", "--seed", "7", "--repeat", "2")
    parts = [
        chaos.run("run", suite, "--dry-run", "--seed", "7", "--repeat", "2", "--shard", f"{k}/3")
        for k in (1, 2, 3)
    ]

    heads = re.compile(r"^(\S+#\d+  seed -?\d+)", re.M)
    each = [heads.findall(part.stdout) for part in parts]
    assert all(each), "every shard owns trials of a suite this size"
    assert sorted(h for shard in each for h in shard) == sorted(heads.findall(whole.stdout))
    assert "run them with --seed 7 --shard 2/3" in parts[1].stdout


def test_the_journal_stores_the_schedule_each_trial_ran(chaos: Chaos) -> None:
    path = chaos.scenario("jit.yaml", jittered("tiny-jitter"))

    result = chaos.run("run", path, "--seed", "5", "--repeat", "2", "--jobs", "2")

    assert result.returncode == 0, result
    scenario = load_scenario(path)
    trials = _trials(read_journal(chaos.home / "reports" / "journal.json"))
    assert [t["seed"] for t in trials] == [trial_seed(5, "tiny-jitter", i) for i in (0, 1)]
    assert trials[0]["seed"] == 5, "trial 0 runs with the base seed itself"
    for trial in trials:
        planned = plan(scenario, trial["seed"])
        assert trial["schedule"] == planned.to_dict()
        kills = _kills(trial)
        assert [k["fault"] for k in kills] == [s.number for s in planned.timed()]
        for kill, step in zip(kills, planned.timed(), strict=True):
            assert kill["t"] >= _ready_t(trial) + (step.at or 0)
    assert trials[0]["schedule"] != trials[1]["schedule"], "each trial draws its own jitter"


def test_a_failed_trial_prints_the_command_that_reruns_it_alone(chaos: Chaos) -> None:
    path = chaos.scenario("slow.yaml", jittered("tiny-slow-jitter", delay="1.5"))
    first = chaos.run("run", path, "--seed", "11", "--repeat", "2", "--out", "first")
    assert first.returncode == 1, first
    original = _trials(read_journal(chaos.home / "first" / "journal.json"))[1]
    printed = re.search(
        r"rerun alone: +(chaos run .*--seed (\d+) --repeat 1.*)$", first.stdout, re.M
    )
    lines = re.findall(r"rerun alone: +(.+)$", first.stdout, re.M)
    assert printed is not None, first
    assert len(lines) == 2
    assert f"--seed {original['seed']} --repeat 1" in lines[1]
    assert "chaos replay first/journal.json --trial 'tiny-slow-jitter#1'" in first.stdout

    words = shlex.split(lines[1])
    again = chaos.run(*words[1:], "--out", "again")

    assert again.returncode == 1, again
    (rerun,) = _trials(read_journal(chaos.home / "again" / "journal.json"))
    assert rerun["seed"] == original["seed"]
    assert json.dumps(rerun["schedule"], sort_keys=True) == json.dumps(
        original["schedule"], sort_keys=True
    ), "trial 0 of that seed is the same trial: the same schedule, byte for byte"


def test_replay_runs_the_stored_schedule_even_after_the_file_changed(chaos: Chaos) -> None:
    path = chaos.scenario("rep.yaml", jittered("tiny-replay", delay="1.5"))
    first = chaos.run("run", path, "--seed", "3", "--repeat", "2")
    assert first.returncode == 1, first
    journal = chaos.home / "reports" / "journal.json"
    original = _trials(read_journal(journal))[1]
    # The file's faults change after the run: a replay still runs what the trial ran.
    path.write_text(path.read_text().replace("at: 300ms", "at: 900ms"), encoding="utf-8")

    replay = chaos.run("replay", journal, "--trial", "tiny-replay#1")

    assert replay.returncode == 1, replay
    assert "tiny-replay#1  seed" in replay.stdout
    (again,) = _trials(read_journal(chaos.home / "reports" / "replay" / "journal.json"))
    assert (again["index"], again["seed"]) == (1, original["seed"])
    assert again["schedule"] == original["schedule"]
    actions = [e for e in again["events"] if e["type"] == "fault"]  # a kill or a miss each
    for kill, step in zip(actions, original["schedule"]["steps"], strict=True):
        assert kill["fault"] == step["number"]
        assert kill["t"] >= _ready_t(again) + step["at"]
        assert kill["t"] < _ready_t(again) + step["at"] + 0.25  # a timer's delay at most
    assert actions[0]["t"] < _ready_t(again) + 0.9, "the stored times, not the file's new ones"


def test_replay_of_a_journal_without_schedules_plans_from_the_seed(chaos: Chaos) -> None:
    path = chaos.scenario("old.yaml", jittered("tiny-old"))
    assert chaos.run("run", path, "--seed", "4").returncode == 0
    journal = chaos.home / "reports" / "journal.json"
    data = json.loads(journal.read_text())
    stored = data["scenarios"][0]["trials"][0].pop("schedule")
    old = chaos.home / "old" / "journal.json"
    old.parent.mkdir()
    old.write_text(json.dumps(data), encoding="utf-8")

    replay = chaos.run("replay", old, "--trial", "tiny-old#0", "--out", "re")

    assert replay.returncode == 0, replay
    assert "stored no schedule" in replay.stderr
    (again,) = _trials(read_journal(chaos.home / "re" / "journal.json"))
    assert again["schedule"] == stored


def test_replay_and_shrink_say_what_is_wrong(chaos: Chaos) -> None:
    path = chaos.scenario("ok.yaml", jittered("tiny-ok"))
    assert chaos.run("run", path, "--seed", "2").returncode == 0
    journal = chaos.home / "reports" / "journal.json"

    passed = chaos.run("shrink", journal, "--trial", "tiny-ok#0")
    assert passed.returncode == 2
    assert "only a failed trial can be shrunk" in passed.stderr
    missing = chaos.run("replay", journal, "--trial", "tiny-ok#4")
    assert missing.returncode == 2
    assert "no trial tiny-ok#4; its trials of tiny-ok: tiny-ok#0" in missing.stderr
    bad = chaos.run("replay", journal, "--trial", "tiny-ok")
    assert bad.returncode == 2
    assert "--trial expects NAME#I" in bad.stderr
    here = chaos.run("replay", journal, "--trial", "tiny-ok#0", "--out", "reports")
    assert here.returncode == 2
    assert "would overwrite" in here.stderr
    assert "Traceback" not in passed.stderr + missing.stderr + bad.stderr + here.stderr


@pytest.mark.slow
def test_run_shrink_writes_the_smallest_failing_scenario(chaos: Chaos) -> None:
    text = jittered("tiny-never", at="300ms").replace(
        '--restart-delay, "{delay}"]', '--restart-delay, "{delay}", --no-restart]'
    )
    path = chaos.scenario("never.yaml", text.replace("count: 2", "count: 3"))

    result = chaos.run("run", path, "--seed", "6", "--shrink", deadline=300)

    assert result.returncode == 1, result
    shrunk = chaos.home / "reports" / "shrunk" / "tiny-never-0.yaml"
    assert shrunk.is_file(), result
    written = load_scenario(shrunk)
    assert written.name == "tiny-never-shrunk"
    assert len(written.faults) == 1, shrunk.read_text()
    assert "removed #" in shrunk.read_text()
    assert re.search(r"1 of 3 fault step\(s\) still fail", result.stdout), result
    again = chaos.run("run", shrunk, "--out", "again")
    assert again.returncode == 1, again

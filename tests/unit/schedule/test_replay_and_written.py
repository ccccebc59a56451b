"""Naming a journal's trial, the commands that rerun it, the dry run's lines, and the
shrunk scenario written back as a file that loads."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.results.model import RunResult, ScenarioResult, TrialResult
from harness.run.catalog import load_scenario
from harness.schedule.describe import describe
from harness.schedule.model import Schedule, Step
from harness.schedule.plan import plan
from harness.schedule.replay import (
    declared_vars,
    find_trial,
    parse_ref,
    replay_command,
    rerun_command,
)
from harness.schedule.shrink import ShrinkResult, duration_text
from harness.schedule.written import scenario_text, shrink_header
from harness.spec.verdict import Verdict

SOURCE = """\
# the original's comment
name: tick
vars: {bugs: "", rate: "5/s"}
system:
  command: [sleep, "30", "{bugs}"]
roles:
  backend: {cmdline: sleep}
  worker: {cmdline: sleep}
probes:
  status: {http: {url: "http://127.0.0.1:{port}/status"}}
duration: 8s
phases: {warmup: 1s}
faults:
  - {at: 2s, every: 1s, count: 3, jitter: 500ms,
     mix: [{kill: {role: worker}}, {freeze: {role: backend, for: 300ms}}]}
  - {on_probe: {probe: status, path: backend.state, equals: crashed}, kill: {role: worker}}
invariants:
  - alive: {role: backend}
"""


def test_parse_ref_reads_name_and_index() -> None:
    assert parse_ref("backend-sigkill#3") == ("backend-sigkill", 3)
    assert parse_ref("a#b#12") == ("a#b", 12)
    for bad in ("backend", "backend#", "#2", "backend#-1"):
        with pytest.raises(UsageError, match="NAME#I"):
            parse_ref(bad)


def test_find_trial_says_what_the_journal_has() -> None:
    trial = TrialResult(index=1, verdict=Verdict.FAIL, duration_s=1.0, seed=5)
    run = RunResult(
        started="now", scenarios=[ScenarioResult(name="x", file="x.yaml", trials=[trial])]
    )
    assert find_trial(run, "x", 1)[1] is trial
    with pytest.raises(UsageError, match=r"no trial x#0; its trials of x: x#1"):
        find_trial(run, "x", 0)
    with pytest.raises(UsageError, match="no scenario 'y'; it has: x"):
        find_trial(run, "y", 0)


def test_the_rerun_command_is_one_shell_line_with_the_runs_vars() -> None:
    line = rerun_command("my dir/s.yaml", "tick", 42, {"bugs": "tick-drop", "a": "x y"})
    assert shlex.split(line) == [
        "chaos", "run", "my dir/s.yaml", "-k", "tick", "--seed", "42", "--repeat", "1",
        "--var", "a=x y", "--var", "bugs=tick-drop",
    ]  # fmt: skip
    # A name -k would read as an expression is left out: the file holds that one scenario.
    assert "-k" not in shlex.split(rerun_command("s.yaml", "a b", 1, {}))
    assert shlex.split(replay_command("r/journal.json", "tick", 3)) == [
        "chaos", "replay", "r/journal.json", "--trial", "tick#3",
    ]  # fmt: skip


def test_declared_vars_are_the_files_own(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SOURCE, encoding="utf-8")
    assert declared_vars(path) == {"bugs": "", "rate": "5/s"}
    assert declared_vars(tmp_path / "gone.yaml") == {}


def test_declared_vars_include_a_fragments(tmp_path: Path) -> None:
    """A var declared in an included fragment is the file's too: a rerun line need not
    give it with --var."""
    (tmp_path / "base.fragment.yaml").write_text('vars: {port_base: "9000"}\n', encoding="utf-8")
    path = tmp_path / "s.yaml"
    path.write_text("include: base.fragment.yaml\n" + SOURCE, encoding="utf-8")
    assert declared_vars(path) == {"port_base": "9000", "bugs": "", "rate": "5/s"}


def test_the_dry_run_lines_are_the_same_for_the_same_seed(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SOURCE, encoding="utf-8")
    scenario = load_scenario(path)
    lines = describe("tick", 0, plan(scenario, 9))
    assert lines == describe("tick", 0, plan(scenario, 9))
    assert lines[0] == "tick#0  seed 9  chaos 1s to 8s after ready"
    timed = lines[1:4]
    assert all(" at " in line for line in timed)
    assert [float(line.split()[2][:-1]) for line in timed] == sorted(
        float(line.split()[2][:-1]) for line in timed
    ), "in firing order"
    assert any("mix choice" in line for line in timed)
    assert lines[4] == (
        "  #3  on the 1st reading of status.backend.state that equals crashed  kill  "
        "1 random worker  signal=SIGKILL"
    )


def test_a_shrunk_schedule_is_written_as_a_scenario_that_loads(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SOURCE, encoding="utf-8")
    scenario = load_scenario(path)
    original = plan(scenario, 3)
    kept = [original.steps[1].moved(1.5), original.steps[3]]
    smallest = original.with_steps(kept)
    result = ShrinkResult(original=original, smallest=smallest, reproduced=True, runs=7, seconds=42)
    header = shrink_header(
        result, file=str(path), trial="tick#0", seed=3, command="chaos shrink j.json --trial tick#0"
    )
    text = scenario_text(
        SOURCE, smallest, name="tick", variables={"bugs": "tick-drop", "rate": "5/s"}, header=header
    )
    out = tmp_path / "shrunk.yaml"
    out.write_text(text, encoding="utf-8")

    again = load_scenario(out)

    assert again.name == "tick-shrunk"
    assert again.vars["bugs"] == "tick-drop"
    assert [(f.kind, f.trigger) for f in again.faults] == [
        (kept[0].kind, "at"),
        ("kill", "on_probe"),
    ]
    assert again.faults[0].at == 1.5
    assert text.startswith("# Shrunk from ")
    assert "#   chaos shrink j.json --trial tick#0\n" in text
    assert "# removed #0 " in text
    assert "the original's comment" not in text
    # Run again from the file, the planner gives back the same steps (renumbered).
    replanned = plan(again, 3).steps
    assert [s.at for s in replanned] == [1.5, None]
    assert dict(replanned[0].options) == dict(kept[0].options)


def test_duration_text_is_what_a_scenario_reads_back() -> None:
    assert duration_text(1.5) == "1500ms"
    assert duration_text(0.000001) == "0.001ms"
    assert duration_text(2.345678) == "2345.678ms"
    assert duration_text(86400.0) == "86400000ms"


def test_describe_of_an_empty_schedule() -> None:
    assert describe("x", 2, Schedule(seed=1, duration=3.0, chaos=(0.0, 3.0))) == [
        "x#2  seed 1  observed 3s after ready",
        "  no faults",
    ]


def test_event_steps_are_described_by_their_trigger() -> None:
    def step(trigger: str, event: dict[str, object], options: dict[str, object]) -> Step:
        return Step(number=0, entry=0, kind="kill", options=options, trigger=trigger, event=event)

    spawn = step("on_spawn", {"role": "module", "nth": 2}, {"signal": "SIGKILL"})
    log = step("on_log", {"pattern": r"(?P<pid>\d+) claimed", "role": "worker"}, {})
    ack = step("on_request", {"workload": "jobs", "nth": 3, "acknowledged": True}, {"role": "w"})
    s = Schedule(seed=1, steps=(spawn,), duration=1.0, chaos=(0.0, 1.0))
    assert (
        describe("x", 0, s)[1]
        == "  #0  on the 2nd spawn of module  kill  the spawned process  signal=SIGKILL"
    )
    s = Schedule(seed=1, steps=(log,), duration=1.0, chaos=(0.0, 1.0))
    assert (
        "on the 1st log line naming a worker matching /(?P<pid>\\d+) claimed/  kill  "
        "the process the line names" in describe("x", 0, s)[1]
    )
    s = Schedule(seed=1, steps=(ack,), duration=1.0, chaos=(0.0, 1.0))
    assert "on the 3rd acknowledged id of workload jobs  kill  1 random w" in describe("x", 0, s)[1]

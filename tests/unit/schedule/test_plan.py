"""The planner: the same seed gives the same schedule byte for byte, another seed another,
jitter stays inside its window, generators count their firings, steps bind to their kinds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from schedule_cases import RICH, RICH_FAULTS, rich, scenario

from harness.run.catalog import load_all
from harness.schedule.model import Schedule, ScheduleError
from harness.schedule.plan import bind, plan

ROOT = Path(__file__).resolve().parents[3]


def test_the_same_seed_gives_the_same_schedule_byte_for_byte() -> None:
    first, second = plan(rich(), 1234).to_json(), plan(rich(), 1234).to_json()
    assert first == second
    assert json.loads(first)["seed"] == 1234


def test_the_same_seed_gives_the_same_bytes_in_another_process() -> None:
    code = (
        "import sys, json; sys.path.insert(0, sys.argv[1]);"
        "from schedule_cases import rich; from harness.schedule.plan import plan;"
        "sys.stdout.write(plan(rich(), 1234).to_json())"
    )
    env_seed = {"PYTHONHASHSEED": "987"}  # str hashing differs: the schedule must not
    out = subprocess.run(
        [sys.executable, "-c", code, str(Path(__file__).parent)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **env_seed},
    ).stdout
    assert out == plan(rich(), 1234).to_json()


def test_another_seed_gives_another_schedule() -> None:
    schedules = {plan(rich(), seed).to_json() for seed in range(20)}
    assert len(schedules) == 20
    times = {tuple(s.at for s in plan(rich(), seed).timed()) for seed in (1, 2)}
    assert len(times) == 2, "the draws differ, not only the seed written in the schedule"


@settings(max_examples=200, deadline=None)
@given(
    at_ms=st.integers(0, 5000),
    jitter_ms=st.integers(1, 3000),
    every_ms=st.integers(1, 2000),
    count=st.integers(1, 6),
    seed=st.integers(-(2**40), 2**40),
)
def test_jitter_stays_inside_its_window(
    at_ms: int, jitter_ms: int, every_ms: int, count: int, seed: int
) -> None:
    duration = (at_ms + (count - 1) * every_ms + jitter_ms) / 1000 + 1
    faults = [
        {"at": f"{at_ms}ms", "jitter": f"{jitter_ms}ms", "kill": {"role": "worker"}},
        {
            "at": f"{at_ms}ms",
            "every": f"{every_ms}ms",
            "count": count,
            "jitter": f"{jitter_ms}ms",
            "kill": {"role": "worker"},
        },
    ]
    steps = plan(scenario(faults, duration=f"{duration}s"), seed).steps
    single = [s for s in steps if s.entry == 0]
    repeated = sorted((s for s in steps if s.entry == 1), key=lambda s: s.at or 0)
    assert len(single) == 1
    assert len(repeated) == count
    (one,) = single
    assert at_ms / 1000 <= (one.at or 0) < (at_ms + jitter_ms) / 1000
    bases = sorted(at_ms + k * every_ms for k in range(count))
    drawn = sorted(round((s.at or 0) * 1000, 3) for s in repeated)
    # Each firing is inside its own window [base, base + jitter); sorted, the k-th firing
    # is no earlier than the k-th base and before the k-th base plus the jitter.
    for base, when in zip(bases, drawn, strict=True):
        assert base <= when < base + jitter_ms


def test_jitter_draws_spread_over_the_whole_window() -> None:
    faults = [{"at": "1s", "jitter": "1s", "kill": {"role": "worker"}}]
    draws = [plan(scenario(faults), seed).steps[0].at or 0.0 for seed in range(400)]
    assert min(draws) < 1.05
    assert max(draws) > 1.95
    quarters = [sum(1 + q / 4 <= d < 1 + (q + 1) / 4 for d in draws) for q in range(4)]
    assert all(60 < n < 140 for n in quarters), quarters


def test_every_fires_until_the_chaos_phase_ends() -> None:
    faults = [{"every": "1s", "kill": {"role": "worker"}}]
    s = plan(scenario(faults, duration="10s", phases={"warmup": "2s", "heal": "3s"}), 1)
    assert s.chaos == (2.0, 7.0)
    assert [step.at for step in s.steps] == [3.0, 4.0, 5.0, 6.0]  # one period in, before 7s


def test_every_with_at_and_count() -> None:
    faults = [{"at": "500ms", "every": "1.5s", "count": 3, "kill": {"role": "worker"}}]
    assert [s.at for s in plan(scenario(faults, duration="6s"), 9).steps] == [0.5, 2.0, 3.5]


def test_steps_of_single_triggers_are_numbered_as_their_entries() -> None:
    faults = [
        {"at": "2s", "kill": {"role": "worker"}},
        {"before": "start", "squat_port": {"port": "{port}"}},
        {"on_spawn": {"role": "worker", "nth": 2}, "freeze": {"for": "1s"}},
    ]
    steps = plan(scenario(faults), 5).steps
    assert [(s.number, s.entry, s.trigger) for s in steps] == [
        (0, 0, "at"),
        (1, 1, "before"),
        (2, 2, "on_spawn"),
    ]


def test_changing_one_entry_leaves_the_other_entries_draws_as_they_were() -> None:
    full = plan(rich(), 77)
    # Each entry draws from a stream of its own (seed, index): shrinking one entry (here:
    # the first made a plain kill at 1.5s) cannot move another's jitter nor its mix choice.
    blank = [{"at": "1.5s", "kill": {"role": "worker"}}, *RICH_FAULTS[1:]]
    kept = plan(scenario(blank, **RICH), 77)
    assert [s.to_dict() for s in full.steps if s.entry > 0] == [
        s.to_dict() for s in kept.steps if s.entry > 0
    ]


def test_a_mix_draws_each_of_its_faults_over_seeds() -> None:
    drawn = {s.kind for seed in range(30) for s in plan(rich(), seed).steps if s.entry == 1}
    assert drawn == {"kill", "freeze"}
    for s in plan(rich(), 3).steps:
        if s.entry == 1:
            assert s.choice in (0, 1)
            assert s.kind == ("kill" if s.choice == 0 else "freeze")


def test_event_steps_keep_their_trigger_as_written() -> None:
    steps = {s.trigger: s for s in plan(rich(), 1).steps if not s.timed}
    assert steps["on_probe"].event == {"probe": "status", "path": "a.b", "in": ["x", "y"]}
    assert steps["on_request"].event == {"workload": "jobs", "nth": 2, "acknowledged": True}
    assert steps["on_log"].event == {"pattern": r"pid (?P<pid>\d+) claimed", "role": "worker"}


def test_a_schedule_reads_back_as_it_was_written_and_binds() -> None:
    schedule = plan(rich(), 42)
    again = Schedule.from_dict(json.loads(schedule.to_json()))
    assert again == schedule
    bound = bind(again)
    assert [b.step.kind for b in bound] == [s.kind for s in schedule.steps]
    assert all(b.trigger is not None for b in bound if not b.step.timed)


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").rglob("*.yaml")), ids=lambda p: p.stem)
def test_every_suite_scenario_plans_and_binds(path: Path) -> None:
    (loaded,) = load_all([path])
    schedule = Schedule.from_dict(json.loads(plan(loaded, 3).to_json()))
    for bound in bind(schedule):
        assert bound.spec.model_dump(mode="json", by_alias=True) == dict(bound.step.options)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"version": 9}, "unknown schedule version"),
        ({"steps": [{"number": 0}]}, "malformed step"),
        (
            {"steps": [{"number": 0, "entry": 0, "kind": "kill", "trigger": "soon"}]},
            "unknown trigger",
        ),
        ({"steps": [{"number": 0, "entry": 0, "kind": "kill", "trigger": "at"}]}, "needs 'at'"),
    ],
)
def test_a_malformed_schedule_is_refused_with_what_is_wrong(
    change: dict[str, Any], message: str
) -> None:
    data = {**plan(rich(), 1).to_dict(), **change}
    with pytest.raises(ScheduleError, match=message):
        Schedule.from_dict(data)


def test_options_a_kind_refuses_do_not_bind() -> None:
    data = plan(scenario([{"at": "1s", "kill": {"role": "worker"}}]), 1).to_dict()
    data["steps"][0]["options"]["signal"] = "SIGNOPE"
    with pytest.raises(ScheduleError, match=r"step #0 \(kill\)"):
        bind(Schedule.from_dict(data))
    data["steps"][0]["kind"] = "explode"
    with pytest.raises(ScheduleError, match="unknown fault kind 'explode'"):
        bind(Schedule.from_dict(data))

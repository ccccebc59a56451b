"""The nemesis running schedules: event triggers on recorded events (a log line naming a
process, an acknowledged id, a probe reading), the chaos phase, generated timed steps, and
each step's own random stream."""

from __future__ import annotations

import os
import random
import signal
import threading
from typing import Any

from support import wait_until

from harness.observe.events import (
    FaultAction,
    FaultPhase,
    LogLine,
    ProbeResult,
    ProcessExit,
    Request,
)
from harness.run.catalog import scenario_from_mapping
from harness.schedule.model import Schedule
from harness.schedule.nemesis import Nemesis
from harness.schedule.plan import plan

from .context import RealContext

ROLES = {"worker": {"cmdline": "x"}, "backend": {"cmdline": "x"}}
EXTRAS: dict[str, Any] = {
    "workload": [
        {"name": "jobs", "http": {"url": "http://127.0.0.1:1/jobs"}, "rate": "1/s", "record": "id"}
    ],
    "probes": {"status": {"http": {"url": "http://127.0.0.1:1/status"}}},
}


def schedule(faults: list[dict[str, Any]], seed: int = 1, **top: Any) -> Schedule:
    body = {"system": {"command": ["x"]}, "roles": ROLES, "faults": faults, **EXTRAS, **top}
    return plan(scenario_from_mapping(body), seed)


def _line(ctx: RealContext, text: str) -> None:
    ctx.timeline.record(LogLine(t=ctx.timeline.now(), instance=0, stream="stderr", line=text))


def test_on_log_kills_the_process_the_line_names(ctx: RealContext) -> None:
    a, b = ctx.spawn("worker"), ctx.spawn("worker")
    trigger = {"pattern": r"\[worker \S+ (?P<pid>\d+)\] claimed job", "role": "worker", "nth": 2}
    nemesis = Nemesis(schedule([{"on_log": trigger, "kill": {}}]), ctx)
    nemesis.start(ctx.timeline.now())
    try:
        _line(ctx, f"[worker w0 {a.pid}] claimed job 1")
        _line(ctx, "[worker w9 1] claimed job 2")  # not a process of this trial: not counted
        _line(ctx, f"[worker w1 {b.pid}] claimed job 3")
        # The kill ran inside the line's record() call: already on the timeline.
        [action] = ctx.timeline.of(FaultAction)
        assert (action.phase, action.pids, action.role) == (FaultPhase.INSTANT, [b.pid], "worker")
        _line(ctx, f"[worker w0 {a.pid}] claimed job 4")  # fires once only
    finally:
        nemesis.stop()
    assert ctx.wait_exit(b) == -signal.SIGKILL
    assert a.alive
    assert len(ctx.timeline.of(FaultAction)) == 1


def test_on_request_fires_the_moment_the_nth_id_is_acknowledged(ctx: RealContext) -> None:
    worker = ctx.spawn("worker")
    trigger = {"workload": "jobs", "nth": 2, "acknowledged": True}
    nemesis = Nemesis(schedule([{"on_request": trigger, "kill": {"role": "worker"}}]), ctx)
    nemesis.start(ctx.timeline.now())
    try:
        for recorded in (None, "a", None, "b", "c"):
            t = ctx.timeline.now()
            ctx.timeline.record(
                Request(t=t, workload="jobs", instance=0, ok=True, recorded=recorded)
            )
            if recorded == "b":
                [action] = ctx.timeline.of(FaultAction)
                assert action.pids == [worker.pid]
    finally:
        nemesis.stop()
    assert ctx.wait_exit(worker) == -signal.SIGKILL
    assert len(ctx.timeline.of(FaultAction)) == 1


def test_on_probe_fires_on_the_reading_that_meets_the_condition(ctx: RealContext) -> None:
    backend = ctx.spawn("backend")
    trigger = {"probe": "status", "path": "backend.restarts", "above": 0}
    nemesis = Nemesis(schedule([{"on_probe": trigger, "kill": {"role": "backend"}}]), ctx)
    nemesis.start(ctx.timeline.now())
    try:
        for restarts in (0, 0, 1):
            value = {"backend": {"restarts": restarts}}
            ctx.timeline.record(
                ProbeResult(t=ctx.timeline.now(), name="status", instance=0, ok=True, value=value)
            )
            assert len(ctx.timeline.of(FaultAction)) == (1 if restarts else 0)
    finally:
        nemesis.stop()
    assert ctx.wait_exit(backend) == -signal.SIGKILL


def test_event_triggers_count_only_in_the_chaos_phase(ctx: RealContext) -> None:
    worker = ctx.spawn("worker")
    planned = schedule(
        [{"on_log": "boom", "kill": {"role": "worker"}}],
        duration="30s",
        phases={"warmup": "600ms"},
    )
    ready = ctx.timeline.now()
    nemesis = Nemesis(planned, ctx)
    nemesis.start(ready)
    try:
        _line(ctx, "boom")  # in the warm-up: not counted
        assert ctx.timeline.of(FaultAction) == []
        wait_until(lambda: ctx.timeline.now() >= ready + 0.6, what="the chaos phase")
        _line(ctx, "boom")
        [action] = ctx.timeline.of(FaultAction)
        assert action.t >= ready + 0.6
    finally:
        nemesis.stop()
    assert ctx.wait_exit(worker) == -signal.SIGKILL


def test_generated_steps_fire_at_their_planned_times(ctx: RealContext) -> None:
    workers = [ctx.spawn("worker") for _ in range(3)]
    planned = schedule(
        [
            {
                "at": "100ms",
                "every": "150ms",
                "count": 3,
                "jitter": "50ms",
                "kill": {"role": "worker"},
            }
        ],
        duration="5s",
    )
    ready = ctx.timeline.now()
    nemesis = Nemesis(planned, ctx)
    nemesis.start(ready)
    try:
        assert ctx.timeline.wait_for(
            lambda e: isinstance(e, FaultAction) and e.fault == 2, timeout=20.0
        )
    finally:
        nemesis.stop()
    actions = ctx.timeline.of(FaultAction)
    assert [a.fault for a in actions] == [0, 1, 2]
    for action, step in zip(actions, planned.timed(), strict=True):
        assert action.t >= ready + (step.at or 0)
    assert sorted(p for a in actions for p in a.pids) == sorted(w.pid for w in workers)


def _pick(context_seed: int, schedule_seed: int) -> int:
    """Which of six workers (by start order) step #1 of a schedule kills, run alone."""
    ctx = RealContext(seed=context_seed)
    try:
        workers = [ctx.spawn("worker") for _ in range(6)]
        faults = [
            {"at": "0ms", "kill": {"role": "worker", "which": "oldest"}},
            {"at": "20ms", "kill": {"role": "worker"}},
        ]
        planned = schedule(faults, seed=schedule_seed)
        planned = planned.with_steps([s for s in planned.steps if s.number == 1])
        nemesis = Nemesis(planned, ctx)
        nemesis.start(ctx.timeline.now())
        try:
            found = ctx.timeline.wait_for(
                lambda e: isinstance(e, FaultAction) and e.fault == 1, timeout=20.0
            )
        finally:
            nemesis.stop()
        assert isinstance(found, FaultAction)
        return [w.pid for w in workers].index(found.pids[0])
    finally:
        ctx.close()


def test_each_step_draws_its_target_from_its_own_stream() -> None:
    """A step's ``which: random`` pick depends on the schedule's seed and the step's number,
    not on the trial context's shared stream nor on how many draws came before it."""
    first = _pick(context_seed=1, schedule_seed=1234)
    assert _pick(context_seed=2, schedule_seed=1234) == first
    picks = {_pick(context_seed=1, schedule_seed=seed) for seed in range(8)}
    assert len(picks) > 1, "another seed, another pick"
    assert first == random.Random("chaos-step:1234:1").sample(range(6), 1)[0]


def test_a_role_lookup_that_records_an_exit_does_not_block_the_trigger(ctx: RealContext) -> None:
    """The context may notice an exit (and record it, offering it to the nemesis in the same
    thread) while an ``on_log`` trigger asks it for a process's role."""
    gone, target = ctx.spawn("worker"), ctx.spawn("worker")
    os.kill(gone.pid, signal.SIGKILL)
    os.waitid(os.P_PID, gone.pid, os.WEXITED | os.WNOWAIT)  # dead, not yet noticed
    trigger = {"pattern": r"pid (?P<pid>\d+) claimed", "role": "worker"}
    nemesis = Nemesis(schedule([{"on_log": trigger, "kill": {}}]), ctx)
    nemesis.start(ctx.timeline.now())
    line = threading.Thread(target=_line, args=(ctx, f"pid {target.pid} claimed"), daemon=True)
    try:
        line.start()
        line.join(10.0)
        assert not line.is_alive(), "the trigger deadlocked on its own lock"
    finally:
        nemesis.stop()
    assert ctx.wait_exit(target) == -signal.SIGKILL
    assert [e.pid for e in ctx.timeline.of(ProcessExit)][:1] == [gone.pid]

"""``kill`` against real children: the kernel's wait status is the proof."""

from __future__ import annotations

import signal

from harness.faults.base import Firing
from harness.faults.kill import KIND, KillSpec
from harness.observe.events import FaultAction

from .context import RealContext


def _actions(ctx: RealContext) -> list[FaultAction]:
    return ctx.timeline.of(FaultAction)


def test_sigkill_by_default_and_recorded(ctx: RealContext) -> None:
    backend = ctx.spawn("backend")
    KIND.inject(KillSpec(role="backend"), ctx, Firing(3))

    assert ctx.wait_exit(backend) == -signal.SIGKILL
    [action] = _actions(ctx)
    assert (action.fault, action.kind, action.phase) == (3, "kill", "instant")
    assert action.pids == [backend.pid]
    assert action.role == "backend"
    assert action.instance == 0
    assert action.detail == {"signal": "SIGKILL"}


def test_other_signal_by_name(ctx: RealContext) -> None:
    worker = ctx.spawn("worker")
    KIND.inject(KillSpec.model_validate({"role": "worker", "signal": "TERM"}), ctx, Firing(0))

    assert ctx.wait_exit(worker) == -signal.SIGTERM
    assert _actions(ctx)[0].detail["signal"] == "SIGTERM"


def test_oldest_and_newest_pick_by_start_order(ctx: RealContext) -> None:
    first, second, third = (ctx.spawn("module") for _ in range(3))
    KIND.inject(KillSpec(role="module", count=2, which="oldest"), ctx, Firing(0))

    assert ctx.wait_exit(first) == -signal.SIGKILL
    assert ctx.wait_exit(second) == -signal.SIGKILL
    assert [p.pid for p in ctx.processes("module")] == [third.pid]

    newer = ctx.spawn("module")
    KIND.inject(KillSpec(role="module", which="newest"), ctx, Firing(1))
    assert ctx.wait_exit(newer) == -signal.SIGKILL
    assert [p.pid for p in ctx.processes("module")] == [third.pid]


def test_count_all_of_one_instance_only(ctx: RealContext) -> None:
    ours = [ctx.spawn("worker", instance=1) for _ in range(2)]
    other = ctx.spawn("worker", instance=0)
    KIND.inject(KillSpec(role="worker", count="all", instance=1), ctx, Firing(0))

    for process in ours:
        assert ctx.wait_exit(process) == -signal.SIGKILL
    assert [p.pid for p in ctx.processes("worker")] == [other.pid]
    [action] = _actions(ctx)
    assert sorted(action.pids) == sorted(p.pid for p in ours)
    assert action.instance == 1


def test_random_choice_follows_the_seed() -> None:
    picked: list[int] = []
    for _ in range(2):
        ctx = RealContext(seed=42)
        try:
            workers = [ctx.spawn("worker") for _ in range(3)]
            KIND.inject(KillSpec(role="worker"), ctx, Firing(0))
            [action] = _actions(ctx)
            picked.append([p.pid for p in workers].index(action.pids[0]))
        finally:
            ctx.close()
    assert picked[0] == picked[1]


def test_no_target_is_a_recorded_miss(ctx: RealContext) -> None:
    survivor = ctx.spawn("gateway")
    KIND.inject(KillSpec(role="backend"), ctx, Firing(5))

    [action] = _actions(ctx)
    assert (action.fault, action.phase) == (5, "miss")
    assert "backend" in action.detail["reason"]
    assert survivor.alive
    assert ctx.processes("gateway") == [survivor]


def test_spawned_process_is_the_target(ctx: RealContext) -> None:
    ctx.spawn("module")
    spawned = ctx.spawn("module")
    KIND.inject(KillSpec(), ctx, Firing(0, spawned))

    assert ctx.wait_exit(spawned) == -signal.SIGKILL
    assert len(ctx.processes("module")) == 1

"""``freeze`` against real children: ``/proc`` shows the stop and the thaw."""

from __future__ import annotations

import signal
from collections.abc import Callable

from support import wait_until

from harness.faults.base import Firing
from harness.faults.freeze import KIND, FreezeSpec
from harness.observe.events import Event, FaultAction

from .context import RealContext, proc_state


def _end_of(fault: int) -> Callable[[Event], bool]:
    def match(event: Event) -> bool:
        return isinstance(event, FaultAction) and event.fault == fault and event.phase == "end"

    return match


def test_freeze_then_thaw_after_for(ctx: RealContext) -> None:
    worker = ctx.spawn("worker")
    KIND.inject(FreezeSpec.model_validate({"role": "worker", "for": "300ms"}), ctx, Firing(2))

    [start] = ctx.timeline.of(FaultAction)
    assert (start.phase, start.pids, start.role) == ("start", [worker.pid], "worker")
    assert worker.frozen
    wait_until(lambda: proc_state(worker.pid) == "T", what="the worker to be stopped")

    end = ctx.timeline.wait_for(_end_of(2), timeout=10.0)
    assert isinstance(end, FaultAction)
    assert end.pids == [worker.pid]
    assert end.detail["early"] is False
    assert end.t - start.t >= 0.3
    assert not worker.frozen
    wait_until(lambda: proc_state(worker.pid) != "T", what="the worker to run again")


def test_teardown_thaws_a_long_freeze(ctx: RealContext) -> None:
    worker = ctx.spawn("worker")
    KIND.inject(FreezeSpec(role="worker", for_="10m"), ctx, Firing(0))
    wait_until(lambda: proc_state(worker.pid) == "T", what="the worker to be stopped")

    ctx.run_teardown()

    wait_until(lambda: proc_state(worker.pid) != "T", what="the worker to be thawed at teardown")
    ends = [a for a in ctx.timeline.of(FaultAction) if a.phase == "end"]
    assert len(ends) == 1
    assert ends[0].detail["early"] is True
    assert not worker.frozen


def test_a_frozen_process_is_not_frozen_twice(ctx: RealContext) -> None:
    worker = ctx.spawn("worker")
    KIND.inject(FreezeSpec(role="worker", for_="10m"), ctx, Firing(0))
    KIND.inject(FreezeSpec(role="worker", for_="10m"), ctx, Firing(1))

    phases = [(a.fault, a.phase) for a in ctx.timeline.of(FaultAction)]
    assert phases == [(0, "start"), (1, "miss")]
    ctx.run_teardown()
    wait_until(lambda: proc_state(worker.pid) != "T", what="the worker to be thawed")


def test_killed_while_frozen_thaw_reports_it_gone(ctx: RealContext) -> None:
    worker = ctx.spawn("worker")
    KIND.inject(FreezeSpec(role="worker", for_="10m"), ctx, Firing(0))
    assert worker.pidfd is not None
    signal.pidfd_send_signal(worker.pidfd, signal.SIGKILL)
    assert ctx.wait_exit(worker) == -signal.SIGKILL

    ctx.run_teardown()

    [end] = [a for a in ctx.timeline.of(FaultAction) if a.phase == "end"]
    assert end.pids == []
    assert end.detail["gone"] == [worker.pid]


def test_no_role_and_no_spawn_is_a_miss(ctx: RealContext) -> None:
    ctx.spawn("worker")
    KIND.inject(FreezeSpec(for_="1s"), ctx, Firing(0))

    [miss] = ctx.timeline.of(FaultAction)
    assert miss.phase == "miss"
    assert "on_spawn" in miss.detail["reason"]

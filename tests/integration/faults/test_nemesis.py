"""The nemesis: schedule order, before-start, nth spawn, failures on the record, stop."""

from __future__ import annotations

import signal
import socket
import time
from collections.abc import Callable

from support import wait_until

from harness.faults.base import FaultContext, FaultKind, FaultPlugin, Firing
from harness.faults.freeze import FreezeSpec
from harness.faults.kill import KillSpec
from harness.faults.registry import FAULTS
from harness.faults.squat_port import SquatPortSpec
from harness.observe.events import Event, FaultAction, FaultPhase, HarnessNote
from harness.scenario.model import FaultEntry, OnSpawn
from harness.schedule.nemesis import Nemesis
from harness.spec.effects import Effect
from harness.spec.kinds import FaultSpec
from harness.spec.registry import Registry

from .context import RealContext, proc_state


def _entry(index: int, spec: FaultSpec, kind: str, **trigger: object) -> FaultEntry:
    return FaultEntry.model_validate({"index": index, "kind": kind, "spec": spec, **trigger})


def _count_actions(n: int, phase: str | None = None) -> Callable[[Event], bool]:
    seen: list[FaultAction] = []

    def match(event: Event) -> bool:
        if isinstance(event, FaultAction) and (phase is None or event.phase == phase):
            seen.append(event)
        return len(seen) >= n

    return match


def test_at_faults_run_in_time_order_after_ready(ctx: RealContext) -> None:
    a, b = ctx.spawn("a"), ctx.spawn("b")
    entries = [
        _entry(0, KillSpec(role="a"), "kill", at=0.4),
        _entry(1, KillSpec(role="b"), "kill", at=0.1),
        _entry(2, KillSpec(role="missing"), "kill", at=0.25),
    ]
    nemesis = Nemesis(entries, ctx)
    ready_t = ctx.timeline.now()
    nemesis.start(ready_t)
    try:
        assert ctx.timeline.wait_for(_count_actions(3), timeout=20.0) is not None
    finally:
        nemesis.stop()

    actions = ctx.timeline.of(FaultAction)
    assert [(x.fault, x.phase) for x in actions] == [(1, "instant"), (2, "miss"), (0, "instant")]
    for action, at in zip(actions, (0.1, 0.25, 0.4), strict=True):
        assert action.t >= ready_t + at
    assert ctx.wait_exit(a) == -signal.SIGKILL
    assert ctx.wait_exit(b) == -signal.SIGKILL


def test_before_start_runs_synchronously() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ctx = RealContext(values={"port": str(port)})
    try:
        entries = [
            _entry(0, SquatPortSpec(port="{port}"), "squat_port", before="start"),
            _entry(1, KillSpec(role="x"), "kill", at=60.0),
        ]
        nemesis = Nemesis(entries, ctx)
        nemesis.before_start()
        [action] = ctx.timeline.of(FaultAction)
        assert (action.fault, action.phase, action.detail["port"]) == (0, "start", port)
        nemesis.stop()
    finally:
        ctx.close()


def test_on_spawn_freezes_exactly_the_nth_spawn(ctx: RealContext) -> None:
    early = ctx.spawn("module")  # before ready: does not count
    entries = [
        _entry(
            0,
            FreezeSpec.model_validate({"for": "10m"}),
            "freeze",
            on_spawn=OnSpawn(role="module", nth=2),
        ),
    ]
    nemesis = Nemesis(entries, ctx)
    nemesis.start(ctx.timeline.now())
    try:
        first = ctx.spawn("module")
        ctx.spawn("other")
        second = ctx.spawn("module")
        third = ctx.spawn("module")
        # The freeze ran inside the spawn's record() call: already on the timeline.
        [action] = ctx.timeline.of(FaultAction)
        assert (action.phase, action.pids, action.role) == ("start", [second.pid], "module")
        wait_until(lambda: proc_state(second.pid) == "T", what="the second spawn to be stopped")
        for process in (early, first, third):
            assert not process.frozen
            assert proc_state(process.pid) != "T"
    finally:
        nemesis.stop()
    ctx.run_teardown()
    wait_until(lambda: proc_state(second.pid) != "T", what="the frozen spawn to be thawed")


def test_on_spawn_with_instance_ignores_other_instances(ctx: RealContext) -> None:
    entries = [
        _entry(0, KillSpec(), "kill", on_spawn=OnSpawn(role="module", nth=1, instance=1)),
    ]
    nemesis = Nemesis(entries, ctx)
    nemesis.start(ctx.timeline.now())
    try:
        bystander = ctx.spawn("module", instance=0)
        target = ctx.spawn("module", instance=1)
    finally:
        nemesis.stop()
    assert ctx.wait_exit(target) == -signal.SIGKILL
    assert bystander.alive
    assert ctx.processes("module") == [bystander]


def _explode(spec: FaultSpec, ctx: FaultContext, firing: Firing) -> None:
    raise RuntimeError("boom")


def test_a_failing_fault_is_recorded_not_raised(ctx: RealContext) -> None:
    faults: Registry[FaultPlugin] = Registry("fault kind")
    explode = FaultKind("explode", FaultSpec, _explode, effects=frozenset({Effect.ENDS}), refs={})
    faults.register("explode", explode)
    faults.register("kill", FAULTS.get("kill"))
    victim = ctx.spawn("a")
    entries = [
        _entry(0, FaultSpec(), "explode", at=0.0),
        _entry(1, KillSpec(role="a"), "kill", at=0.05),
    ]
    nemesis = Nemesis(entries, ctx, faults=faults)
    nemesis.start(ctx.timeline.now())
    try:
        assert ctx.timeline.wait_for(_count_actions(2), timeout=20.0) is not None
    finally:
        nemesis.stop()
    [note] = ctx.timeline.of(HarnessNote)
    assert note.level == "error"
    assert "boom" in note.message
    miss, kill = ctx.timeline.of(FaultAction)
    assert (miss.fault, miss.phase, miss.effect) == (0, FaultPhase.MISS, Effect.ENDS)
    assert "RuntimeError: boom" in miss.detail["reason"]
    assert (kill.fault, kill.phase, kill.effect) == (
        1,
        FaultPhase.INSTANT,
        Effect.ENDS,
    )  # the schedule went on
    assert ctx.wait_exit(victim) == -signal.SIGKILL


def test_stop_cancels_pending_faults_promptly(ctx: RealContext) -> None:
    victim = ctx.spawn("a")
    nemesis = Nemesis([_entry(0, KillSpec(role="a"), "kill", at=60.0)], ctx)
    nemesis.start(ctx.timeline.now())
    assert nemesis.pending
    begun = time.monotonic()
    nemesis.stop()
    assert time.monotonic() - begun < 5.0
    assert not nemesis.pending
    nemesis.stop()  # idempotent
    assert ctx.timeline.of(FaultAction) == []
    assert victim.alive
    assert proc_state(victim.pid) != "Z"

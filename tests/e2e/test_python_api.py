"""The Python API as a user writes it: the ``chaos_system`` fixture against the testbed.

The same launcher, tracking and teardown as ``chaos run``, driven by the test itself: kill
the backend, wait (on the timeline) for the supervisor's answer, and judge invariants on
what was recorded.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

import pytest

from harness import SystemSession, Verdict
from harness.errors import UsageError
from harness.faults.base import FaultContext, FaultKind, FaultPlugin, Firing
from harness.faults.targets import TargetSpec, choose, record_action, record_miss
from harness.observe.events import Event, FaultPhase, LogLine, ProcessExit, ProcessStart
from harness.spec.effects import Effect
from harness.spec.registry import Registry

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

DEADLINE = 30.0
"""Generous: machines are small and shared; every wait ends on its event, not on this."""


def backend_spec(bugs: str = "") -> dict[str, Any]:
    """The testbed with one backend and nothing else, as a scenario mapping."""
    return {
        "name": "api-backend",
        "vars": {"bugs": bugs},
        "timeout": "90s",
        "system": {
            "command": [
                "{python}",
                "-m",
                "harness.testbed",
                "--port",
                "{port}",
                "--data-dir",
                "{run_dir}/data",
                "--bugs",
                "{bugs}",
                "--modules",
                "0",
                "--workers",
                "0",
            ],
            "ready": {"log": r"listening on http://127\.0\.0\.1:(?P<port>\d+)", "timeout": "30s"},
            "stop": {"signal": "SIGTERM", "grace": "5s"},
        },
        "roles": {
            "supervisor": {"root": True},
            "backend": {"cmdline": r"harness\.testbed\.backend", "count": 1},
        },
    }


def wait_event(system: SystemSession, what: str, match: Callable[[Event], bool]) -> Event:
    event = system.timeline.wait_for(match, DEADLINE)
    assert event is not None, f"no {what} within {DEADLINE:g}s"
    return event


def kill_backend(system: SystemSession) -> int:
    """SIGKILL the one backend; return its pid once its exit is on the timeline."""
    assert system.wait_for_role("backend", 1, timeout=DEADLINE)
    (backend,) = system.processes("backend")
    system.kill("backend")
    wait_event(
        system, "backend exit", lambda e: isinstance(e, ProcessExit) and e.pid == backend.pid
    )
    return backend.pid


def test_backend_recovers(chaos_system: Callable[..., SystemSession]) -> None:
    system = chaos_system(backend_spec())
    killed = kill_backend(system)
    replacement = wait_event(
        system,
        "replacement backend",
        lambda e: isinstance(e, ProcessStart) and e.role == "backend" and e.pid != killed,
    )

    recovers = system.check("recovers", role="backend", within="10s")
    alive = system.check("alive", role="supervisor")

    assert recovers.verdict is Verdict.PASS, recovers.detail
    (recovery_s,) = recovers.metrics["recovery_s"]
    assert recovery_s > 0
    assert alive.verdict is Verdict.PASS, alive.detail
    assert isinstance(replacement, ProcessStart)
    assert [p.pid for p in system.processes("backend")] == [replacement.pid]


def test_no_restart_bug_fails_recovers(chaos_system: Callable[..., SystemSession]) -> None:
    system = chaos_system(backend_spec(bugs="no-restart"))
    killed = kill_backend(system)
    wait_event(
        system,
        "the supervisor's decision",
        lambda e: isinstance(e, LogLine) and "is not restarted" in e.line,
    )

    recovers = system.check("recovers", role="backend", within="10s")

    assert recovers.verdict is Verdict.FAIL
    assert "not recovered" in recovers.detail
    assert recovers.observed == "spawned per fault: never"
    assert system.processes("backend") == []
    assert killed not in {p.pid for p in system.processes()}


def test_recovery_phases_from_the_python_api(chaos_system: Callable[..., SystemSession]) -> None:
    spec = backend_spec()
    spec["roles"]["backend"]["ready"] = {"log": r"pid (?P<pid>\d+) ready \(t="}
    system = chaos_system(spec)
    killed = kill_backend(system)
    wait_event(
        system,
        "the replacement's ready line",
        lambda e: (
            isinstance(e, LogLine) and " ready (t=" in e.line and f"pid {killed} " not in e.line
        ),
    )

    ready = system.check("recovers", role="backend", until="ready", within="10s")
    spawned = system.check("recovers", role="backend", until="spawned", within="10s")

    assert ready.verdict is Verdict.PASS, ready.detail
    assert ready.detail.startswith("backend ready again after all 1 fault(s)")
    (record,) = ready.metrics["recoveries"]
    assert record["until"] == "ready"
    assert 0 < record["died_s"] <= record["spawned_s"] <= record["ready_s"] < 10
    assert ready.metrics["recovery_s"] == [record["ready_s"]]
    assert spawned.metrics["recovery_s"] == [record["spawned_s"]]
    assert (
        system.check("recovers", role="backend", within="10s").metrics["recovery_s"]
        == (ready.metrics["recovery_s"])
    )  # the default is ready: the role declares its readiness


# --------------------------------------------------------------------------- a new fault kind


class PowerCutSpec(TargetSpec):
    """A fault kind no checker has heard of: it ends processes its own way."""


def _power_cut(spec: PowerCutSpec, ctx: FaultContext, firing: Firing) -> None:
    targets, reason = choose(spec, ctx, firing)
    if reason is not None:
        record_miss(ctx, firing.index, "power_cut", reason, spec.role, effect=Effect.ENDS)
        return
    hit = [p for p in targets if ctx.signal(p, signal.SIGKILL)]
    record_action(
        ctx, firing.index, "power_cut", FaultPhase.INSTANT, spec.role, hit, {}, effect=Effect.ENDS
    )


POWER_CUT = FaultKind("power_cut", PowerCutSpec, _power_cut, effects=frozenset({Effect.ENDS}))
"""Registered only here: the checkers judge it by its declared effect, not by its name."""


def test_a_new_fault_kind_is_judged_by_its_effect(
    chaos_system: Callable[..., SystemSession],
) -> None:
    faults: Registry[FaultPlugin] = Registry("fault kind")
    faults.register(POWER_CUT.name, POWER_CUT)
    system = chaos_system(backend_spec())
    assert system.wait_for_role("backend", 1, timeout=DEADLINE)
    (backend,) = system.processes("backend")

    kind = faults.get("power_cut")
    kind.run(kind.spec.model_validate({"role": "backend"}), system.system.ctx, Firing(0))
    wait_event(
        system,
        "replacement backend",
        lambda e: isinstance(e, ProcessStart) and e.role == "backend" and e.pid != backend.pid,
    )

    recovers = system.check("recovers", role="backend", within="10s")
    restarts = system.check("restarts", role="backend", per_fault=True)
    assert recovers.verdict is Verdict.PASS, recovers.detail
    (recovery_s,) = recovers.metrics["recovery_s"]
    assert 0 < recovery_s < 10
    assert restarts.verdict is Verdict.PASS, restarts.detail
    assert restarts.metrics == {"restarts": 1, "kills": 1}


def _must_exit(command: list[str], within: str) -> dict[str, Any]:
    return {
        "name": "api-must-exit",
        "timeout": "30s",
        "system": {"command": command, "expect_exit": {"within": within}},
        "roles": {"root": {"root": True}},
    }


def test_a_system_expected_to_exit_is_waited_for_not_made_ready(
    chaos_system: Callable[..., SystemSession],
) -> None:
    system = chaos_system(_must_exit(["{python}", "-c", "import sys; sys.exit(3)"], "10s"))

    assert system.wait_exit() is None
    assert system.check("exit", code=3).verdict is Verdict.PASS
    assert system.check("exit", code=0).verdict is Verdict.FAIL
    with pytest.raises(UsageError, match="expects its system to exit"):
        system.wait_ready()


def test_a_system_expected_to_exit_that_stays_up_is_said_so(
    chaos_system: Callable[..., SystemSession],
) -> None:
    system = chaos_system(_must_exit(["sleep", "60"], "500ms"))

    still = system.wait_exit()

    assert still is not None
    assert "expected the system to exit within 0.5s (system.expect_exit)" in still

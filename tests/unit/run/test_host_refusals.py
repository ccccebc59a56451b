"""A scenario whose resource fault this host cannot inject is skipped, saying why; and the
shipped ``worker-oom`` scenario asks for exactly the memory controller."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.run.catalog import load_scenario, scenario_from_mapping
from harness.run.system import host_refusals
from harness.scenario.model import Scenario
from harness.system import limits
from harness.system.limits import Backend, Controller

ROOT = Path(__file__).resolve().parents[3]


def _scenario(kind: str, options: dict[str, object]) -> Scenario:
    return scenario_from_mapping(
        {
            "name": "limited",
            "system": {"command": ["true"]},
            "roles": {"app": {"root": True}},
            "faults": [{"at": "1s", kind: {"role": "app", **options}}],
            "invariants": [{"alive": {"role": "app"}}],
        }
    )


def _only(missing: Controller, why: str) -> Callable[[Controller, Path | None], Backend | str]:
    def backend_for(controller: Controller, v2_parent: Path | None) -> Backend | str:
        if controller is missing:
            return why
        return Backend(controller, 1, Path(f"/sys/fs/cgroup/{controller}/chaos"))

    return backend_for


def test_a_missing_controller_is_a_refusal_with_its_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    why = "no pids controller: not enabled in cgroup v2 and no v1 pids hierarchy is mounted"
    monkeypatch.setattr(limits, "backend_for", _only(Controller.PIDS, why))
    assert host_refusals(_scenario("pids_limit", {"max": 2})) == [f"pids_limit: {why}"]
    assert host_refusals(_scenario("cpu_throttle", {"percent": 10})) == []


def test_worker_oom_needs_the_memory_controller(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "backend_for", _only(Controller.MEMORY, "no memory here"))
    scenario = load_scenario(ROOT / "scenarios" / "worker-oom.yaml")
    assert host_refusals(scenario) == ["memory_limit: no memory here"]

"""A scenario with every generator and event trigger, shared by the schedule tests."""

from __future__ import annotations

from typing import Any

from harness.run.catalog import scenario_from_mapping
from harness.scenario.model import Scenario

SYSTEM = {"command": ["sleep", "30"]}
ROLES = {"worker": {"cmdline": "sleep"}, "backend": {"cmdline": "sleep"}}


def scenario(faults: list[dict[str, Any]], **top: Any) -> Scenario:
    body: dict[str, Any] = {"system": SYSTEM, "roles": ROLES, "faults": faults, **top}
    return scenario_from_mapping(body)


RICH = dict(
    duration="20s",
    phases={"warmup": "1s", "heal": "2s"},
    workload=[
        {
            "name": "jobs",
            "http": {"url": "http://127.0.0.1:{port}/jobs", "method": "POST"},
            "rate": "5/s",
            "record": "id",
        }
    ],
    probes={"status": {"http": {"url": "http://127.0.0.1:{port}/status"}}},
)
RICH_FAULTS: list[dict[str, Any]] = [
    {"at": "2s", "jitter": "1s", "kill": {"role": "worker"}},
    {
        "every": "1s",
        "jitter": "500ms",
        "count": 5,
        "mix": [{"kill": {"role": "worker"}}, {"freeze": {"role": "backend", "for": "200ms"}}],
    },
    {"at": "3s", "every": "2s", "kill": {"role": "backend", "signal": "SIGTERM"}},
    {"on_log": {"pattern": r"pid (?P<pid>\d+) claimed", "role": "worker"}, "kill": {}},
    {
        "on_request": {"workload": "jobs", "nth": 2, "acknowledged": True},
        "kill": {"role": "worker"},
    },
    {"on_probe": {"probe": "status", "path": "a.b", "in": ["x", "y"]}, "kill": {"role": "worker"}},
]


def rich() -> Scenario:
    return scenario(RICH_FAULTS, **RICH)

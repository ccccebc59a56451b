"""``chaos doctor``'s fault families: one line each, available or why not, and for the
resource family which hierarchy each controller uses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from harness.faults.families import families
from harness.faults.registry import FAULTS
from harness.system.limits import Backend, Controller


@dataclass(frozen=True)
class Plugin:
    """Just what ``families`` reads of a registered kind."""

    name: str
    family: str
    available: Callable[[], str | None] = field(default=lambda: None)


def _no(why: str) -> Callable[[], str | None]:
    return lambda: why


def _v1(controller: Controller) -> Backend | str:
    if controller is Controller.PIDS:
        return "no pids controller: not enabled in cgroup v2 and no v1 pids hierarchy"
    return Backend(controller, 1, Path(f"/sys/fs/cgroup/{controller}/chaos"))


def test_a_family_is_available_when_every_kind_is() -> None:
    found = families([Plugin("kill", "signals"), Plugin("freeze", "signals")], _v1)
    assert [(f.name, f.available, f.text()) for f in found] == [("signals", True, "available")]


def test_one_reason_shared_by_every_kind_is_said_once() -> None:
    why = "needs root to mount a tmpfs (running as uid 1000)"
    found = families([Plugin("disk_full", "disk", _no(why)), Plugin("read_only", "disk", _no(why))])
    assert found[0].text() == why
    assert not found[0].available


def test_resources_name_the_hierarchy_and_each_refusal() -> None:
    plugins = [
        Plugin("memory_limit", "resources"),
        Plugin("cpu_throttle", "resources"),
        Plugin("pids_limit", "resources", _no("no pids controller")),
    ]
    (status,) = families(plugins, _v1)
    assert not status.available
    assert status.refused == {"pids_limit": "no pids controller"}
    assert status.text() == (
        "pids_limit: no pids controller; memory_limit: cgroup v1 memory at"
        " /sys/fs/cgroup/memory/chaos; cpu_throttle: cgroup v1 cpu at /sys/fs/cgroup/cpu/chaos"
    )


def test_every_registered_family_is_listed() -> None:
    listed = {f.name for f in families(FAULTS.get(n) for n in FAULTS.names())}
    assert listed == {"signals", "ports", "requests", "network", "disk", "resources"}

"""Fault options: what a scenario author may write, and the clear refusal of the rest."""

from __future__ import annotations

import signal
from typing import Any

import pytest
from pydantic import ValidationError

from harness.faults.freeze import FreezeSpec
from harness.faults.kill import KillSpec
from harness.faults.registry import FAULTS
from harness.faults.request import RequestSpec
from harness.faults.resources import CpuThrottleSpec, MemoryLimitSpec, PidsLimitSpec
from harness.faults.squat_port import SquatPortSpec
from harness.spec.effects import Effect


def _refused(model: Any, data: dict[str, Any], words: str) -> None:
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    assert words in str(info.value)


def test_registry_knows_every_kind_and_their_references() -> None:
    assert FAULTS.names() == [
        "bandwidth",
        "cpu_throttle",
        "disk_full",
        "down",
        "freeze",
        "kill",
        "latency",
        "limit_data",
        "memory_limit",
        "pids_limit",
        "read_only",
        "request",
        "reset_peer",
        "slicer",
        "slow_close",
        "squat_port",
        "timeout",
    ]
    assert FAULTS.get("kill").refs == {"role": "role"}
    assert FAULTS.get("freeze").refs == {"role": "role"}
    assert FAULTS.get("squat_port").refs == {}
    assert FAULTS.get("request").refs == {}
    for toxic in ("latency", "bandwidth", "slow_close", "timeout", "reset_peer", "slicer"):
        assert FAULTS.get(toxic).refs == {"proxy": "proxy"}
    assert FAULTS.get("limit_data").refs == FAULTS.get("down").refs == {"proxy": "proxy"}
    assert FAULTS.get("disk_full").refs == FAULTS.get("read_only").refs == {"disk": "disk"}
    for resource in ("memory_limit", "cpu_throttle", "pids_limit"):
        assert FAULTS.get(resource).refs == {"role": "role"}
    for name in FAULTS:
        assert FAULTS.get(name).name == name


def test_every_kind_names_its_family_and_says_whether_this_host_allows_it() -> None:
    families = {name: FAULTS.get(name).family for name in FAULTS}
    assert families["kill"] == families["freeze"] == "signals"
    assert (families["squat_port"], families["request"]) == ("ports", "requests")
    assert families["latency"] == families["down"] == "network"
    assert families["disk_full"] == families["read_only"] == "disk"
    assert families["memory_limit"] == families["cpu_throttle"] == families["pids_limit"]
    assert families["pids_limit"] == "resources"
    for name in FAULTS:
        reason = FAULTS.get(name).available()
        assert reason is None or (isinstance(reason, str) and reason)


def test_kill_defaults() -> None:
    spec = KillSpec.model_validate({"role": "backend"})
    assert (spec.signal, spec.count, spec.which, spec.instance) == (
        signal.SIGKILL,
        1,
        "random",
        None,
    )


@pytest.mark.parametrize(
    ("given", "expected"),
    [("SIGTERM", signal.SIGTERM), ("term", signal.SIGTERM), ("KILL", signal.SIGKILL), (15, 15)],
)
def test_kill_signal_by_name_or_number(given: Any, expected: int) -> None:
    assert KillSpec.model_validate({"role": "b", "signal": given}).signal == expected


def test_kill_signal_refusals() -> None:
    _refused(KillSpec, {"role": "b", "signal": "SIGFOO"}, "unknown signal 'SIGFOO'")
    _refused(KillSpec, {"role": "b", "signal": 999}, "not a signal number")
    _refused(KillSpec, {"role": "b", "signal": True}, "expected a signal name")
    _refused(KillSpec, {"role": "b", "signal": "SIGSTOP"}, "use the freeze fault")


@pytest.mark.parametrize("count", [0, -1, "some", True, 1.5])
def test_count_must_be_positive_or_all(count: Any) -> None:
    _refused(KillSpec, {"role": "b", "count": count}, "expected a number of processes")


def test_count_all_and_which() -> None:
    spec = KillSpec.model_validate({"role": "b", "count": "all", "which": "oldest"})
    assert (spec.count, spec.which) == ("all", "oldest")
    _refused(KillSpec, {"role": "b", "which": "middle"}, "'random', 'oldest' or 'newest'")
    _refused(KillSpec, {"role": "b", "instance": -1}, "greater than or equal to 0")
    _refused(KillSpec, {"role": "b", "colour": "red"}, "Extra inputs are not permitted")


def test_freeze_for_is_a_required_duration() -> None:
    assert FreezeSpec.model_validate({"role": "w", "for": "250ms"}).for_ == 0.25
    _refused(FreezeSpec, {"role": "w"}, "for")
    _refused(FreezeSpec, {"role": "w", "for": 2}, "expected a duration")
    _refused(FreezeSpec, {"role": "w", "for": "2s", "signal": "SIGSTOP"}, "Extra inputs")


def test_squat_port_options() -> None:
    spec = SquatPortSpec.model_validate({"port": 8080, "for": "1s"})
    assert (spec.port, spec.host, spec.for_) == ("8080", "127.0.0.1", 1.0)
    assert SquatPortSpec.model_validate({"port": "{port}"}).for_ is None
    assert SquatPortSpec.model_validate({"port": "{port}", "host": "0.0.0.0"}).host == "0.0.0.0"
    _refused(SquatPortSpec, {"port": "{port}", "host": "10.0.0.1"}, "loopback or wildcard")
    _refused(SquatPortSpec, {}, "port")


def test_request_options() -> None:
    spec = RequestSpec.model_validate(
        {"url": "http://127.0.0.1:{port}/x", "method": "POST", "json": {"a": 1}, "count": 50}
    )
    assert (spec.method, spec.json_body, spec.count, spec.concurrency) == ("POST", {"a": 1}, 50, 8)
    assert spec.expect_status is None
    _refused(RequestSpec, {"url": "u", "count": 0}, "greater than or equal to 1")
    _refused(RequestSpec, {"url": "u", "concurrency": 0}, "greater than or equal to 1")
    _refused(RequestSpec, {"url": "u", "expect_status": [42]}, "greater than or equal to 100")


def test_resource_fault_options() -> None:
    memory = FAULTS.get("memory_limit").spec.model_validate(
        {"role": "worker", "limit": "16MiB", "for": "2s"}
    )
    assert isinstance(memory, MemoryLimitSpec)
    assert (memory.limit, memory.for_, memory.count) == (16 << 20, 2.0, 1)
    cpu = CpuThrottleSpec.model_validate({"role": "worker", "percent": 10, "count": "all"})
    assert (cpu.percent, cpu.for_, cpu.count) == (10, None, "all")
    assert PidsLimitSpec.model_validate({"role": "w", "max": 1}).max == 1


def test_resource_fault_refusals() -> None:
    _refused(MemoryLimitSpec, {"role": "w", "limit": 16777216}, "expected a size")
    _refused(MemoryLimitSpec, {"role": "w", "limit": "64KiB"}, "greater than or equal")
    _refused(MemoryLimitSpec, {"role": "w"}, "limit")
    _refused(CpuThrottleSpec, {"role": "w", "percent": 0}, "greater than or equal to 1")
    _refused(PidsLimitSpec, {"role": "w", "max": 0}, "greater than or equal to 1")
    _refused(PidsLimitSpec, {"role": "w", "max": 2, "cpu": 1}, "Extra inputs")


def test_resource_effects_say_only_memory_can_end_processes() -> None:
    assert FAULTS.get("memory_limit").effects == {Effect.NONE, Effect.ENDS}
    assert FAULTS.get("memory_limit").intent is Effect.ENDS
    for name in ("cpu_throttle", "pids_limit"):
        assert FAULTS.get(name).effects == {Effect.NONE}
        assert FAULTS.get(name).intent is Effect.NONE

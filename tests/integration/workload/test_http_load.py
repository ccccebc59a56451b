"""The open-loop workload against a real loopback server."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest

from harness.observe.events import Event, Request
from harness.observe.timeline import Timeline
from harness.scenario.model import WorkloadSpec
from harness.workload.engine import Workload

from .server import JsonServer
from .specs import workload as _workload


def _spec(path: str, **options: Any) -> WorkloadSpec:
    return _workload(**{"name": "ui", "http": {"url": "http://127.0.0.1:{port}" + path}, **options})


def _resolver(*ports: int) -> Callable[[str, int], str]:
    return lambda template, instance: template.replace("{port}", str(ports[instance]))


def _requests(n: int, where: Callable[[Request], bool] = lambda r: True) -> Callable[[Event], bool]:
    seen = [0]

    def match(event: Event) -> bool:
        if isinstance(event, Request) and where(event):
            seen[0] += 1
        return seen[0] >= n

    return match


def _run_until(workload: Workload, timeline: Timeline, match: Callable[[Event], bool]) -> None:
    workload.start()
    try:
        assert timeline.wait_for(match, timeout=30.0) is not None, "workload made no progress"
    finally:
        workload.stop(drain_timeout=10.0)


def test_rate_and_recorded_ids(server: JsonServer) -> None:
    timeline = Timeline()
    workload = Workload(
        _spec(
            "/job",
            rate="40/s",
            record="job.id",
            http={"url": "http://127.0.0.1:{port}/job", "method": "POST", "json": {"seconds": 0.1}},
        ),
        _resolver(server.port),
        timeline,
        1,
    )
    _run_until(workload, timeline, _requests(40))

    requests = sorted(timeline.of(Request), key=lambda r: r.t)
    assert len(requests) == workload.sent  # every send has exactly one outcome
    assert all(r.ok and r.status == 200 and r.error is None for r in requests)
    assert sorted(r.recorded for r in requests) == list(range(1, len(requests) + 1))
    assert requests[0].body == {"job": {"id": requests[0].recorded}}
    span = requests[-1].t - requests[0].t
    measured = (len(requests) - 1) / span
    assert 40 * 0.5 < measured < 40 * 1.5, f"measured {measured:.1f}/s for 40/s"


def test_a_down_server_is_recorded_as_refused() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    timeline = Timeline()
    workload = Workload(_spec("/job", rate="50/s"), _resolver(closed), timeline, 1)
    _run_until(workload, timeline, _requests(5))

    requests = timeline.of(Request)
    assert len(requests) == workload.sent
    assert {(r.ok, r.status, r.error) for r in requests} == {(False, None, "connection refused")}


def test_status_rules_default_2xx_or_ok_status(server: JsonServer) -> None:
    default, custom = Timeline(), Timeline()
    for timeline, options in ((default, {}), (custom, {"ok_status": [503]})):
        workload = Workload(
            _spec("/down", rate="50/s", **options), _resolver(server.port), timeline, 1
        )
        _run_until(workload, timeline, _requests(3))
    assert {(r.ok, r.status) for r in default.of(Request)} == {(False, 503)}
    assert default.of(Request)[0].body == {"error": "recovering"}
    assert {(r.ok, r.status) for r in custom.of(Request)} == {(True, 503)}


def test_round_robin_over_instances() -> None:
    servers = [JsonServer().start(), JsonServer().start()]
    try:
        timeline = Timeline()
        ports = [s.port for s in servers]
        workload = Workload(_spec("/job", rate="50/s"), _resolver(*ports), timeline, 2)
        _run_until(workload, timeline, _requests(6))
        requests = timeline.of(Request)
        assert all(r.ok for r in requests)
        by_instance = [sum(1 for r in requests if r.instance == i) for i in (0, 1)]
        assert abs(by_instance[0] - by_instance[1]) <= 1
        assert [s.hits for s in servers] == by_instance
    finally:
        for s in servers:
            s.close()


def test_exhausted_concurrency_is_recorded_as_overload(server: JsonServer) -> None:
    timeline = Timeline()
    workload = Workload(
        _spec("/gate", rate="50/s", concurrency=2), _resolver(server.port), timeline, 1
    )
    workload.start()
    try:
        overload = timeline.wait_for(_requests(1, lambda r: not r.ok), timeout=30.0)
        assert isinstance(overload, Request)
        assert overload.error == "overload: 2 in flight"
        server.gate.set()
    finally:
        workload.stop(drain_timeout=10.0)
    requests = timeline.of(Request)
    assert len(requests) == workload.sent
    assert sum(1 for r in requests if r.ok) >= 2  # the two held requests were answered
    assert all(r.ok or (r.error or "").startswith("overload") for r in requests)


def test_requests_without_answer_at_stop_are_recorded_unfinished(server: JsonServer) -> None:
    timeline = Timeline()
    workload = Workload(
        _spec("/gate", rate="50/s", concurrency=3), _resolver(server.port), timeline, 1
    )
    workload.start()
    try:
        assert timeline.wait_for(_requests(1), timeout=30.0) is not None  # the first overload
    finally:
        workload.stop(drain_timeout=0.2)
    requests = timeline.of(Request)
    unfinished = [r for r in requests if (r.error or "").startswith("unfinished")]
    assert len(unfinished) == 3
    assert len(requests) == workload.sent
    assert not any(r.ok for r in requests)
    workload.stop()  # idempotent
    assert not workload.join(0.0), "the three held sends still hang after stop"
    server.gate.set()
    assert workload.join(30.0), "answered sends end, and join sees it"
    assert len(timeline.of(Request)) == len(requests), "a late answer is not recorded twice"


def test_a_non_loopback_target_is_refused_at_start() -> None:
    workload = Workload(
        _spec("/job", rate="1/s"), lambda t, i: "http://192.0.2.1:80/job", Timeline(), 1
    )
    with pytest.raises(ValueError, match="non-loopback"):
        workload.start()

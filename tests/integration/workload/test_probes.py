"""Probes against a real loopback server: what counts as a good reading."""

from __future__ import annotations

import socket

from harness.observe.events import Event, ProbeResult
from harness.observe.poller import ProbePoller
from harness.observe.probes.http import HttpProbeSpec
from harness.observe.timeline import Timeline
from harness.scenario.model import ProbeEntry

from .server import JsonServer


def _poller(path: str, port: int, timeline: Timeline, instances: int = 1) -> ProbePoller:
    http = HttpProbeSpec(url="http://127.0.0.1:{port}" + path)
    spec = ProbeEntry.model_validate({"kind": "http", "spec": http, "every": "50ms"})
    return ProbePoller(
        "status", spec, lambda t, i: t.replace("{port}", str(port)), timeline, instances
    )


def test_a_json_answer_is_a_good_reading(server: JsonServer) -> None:
    timeline = Timeline()
    [result] = _poller("/status", server.port, timeline).read_once()
    assert (result.ok, result.status, result.error) == (True, 200, None)
    assert result.value == {"backend": {"state": "running"}}
    assert timeline.of(ProbeResult) == [result]


def test_text_or_error_status_is_a_bad_reading(server: JsonServer) -> None:
    timeline = Timeline()
    [text] = _poller("/text", server.port, timeline).read_once()
    assert (text.ok, text.status, text.value) == (False, 200, "hello")
    assert text.error == "the answer is not JSON"
    [down] = _poller("/down", server.port, timeline).read_once()
    assert (down.ok, down.status, down.value) == (False, 503, {"error": "recovering"})


def test_a_refused_connection_is_a_bad_reading() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    [result] = _poller("/status", closed, Timeline()).read_once()
    assert (result.ok, result.status, result.error) == (False, None, "connection refused")


def test_polls_every_instance_until_stopped(server: JsonServer) -> None:
    timeline = Timeline()
    poller = _poller("/status", server.port, timeline, instances=2)
    seen: list[int] = []

    def eight_readings(event: Event) -> bool:  # runs under the timeline's lock: no of()
        if isinstance(event, ProbeResult):
            seen.append(event.instance)
        return len(seen) >= 8

    poller.start()
    try:
        assert timeline.wait_for(eight_readings, timeout=30.0) is not None
    finally:
        poller.stop()
    assert set(seen) == {0, 1}
    assert all(r.ok for r in timeline.of(ProbeResult))


def test_stop_waits_for_one_hung_reading_not_for_every_instance(server: JsonServer) -> None:
    timeline = Timeline()
    poller = _poller("/gate", server.port, timeline, instances=3)
    poller.start()
    try:
        assert server.at_gate.wait(30.0), "the poller never reached the server"
        assert not poller.stop(timeout=0.0), "the reading of instance 0 is held at the gate"
        server.gate.set()
        assert poller.join(30.0)
    finally:
        poller.stop()
    assert [r.instance for r in timeline.of(ProbeResult)] == [0], "stopped before instance 1"

"""``request``: a burst of bad requests, every answer recorded."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from harness.faults.base import Firing
from harness.faults.request import KIND, RequestSpec
from harness.observe.events import Event, FaultAction, Request

from .context import RealContext


class _NotFound(BaseHTTPRequestHandler):
    """Answers every POST with a JSON 404, like a daemon refusing an unknown dataflow."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(length)
        body = json.dumps({"error": "no running dataflow with ID nope"}).encode()
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _instant(event: Event) -> bool:
    return isinstance(event, FaultAction) and event.phase == "instant"


def test_every_answer_is_recorded_and_counted(server_port: int) -> None:
    ctx = RealContext(values={"port": str(server_port)})
    try:
        spec = RequestSpec.model_validate(
            {
                "url": "http://127.0.0.1:{port}/dataflows/nope/stop",
                "method": "POST",
                "json": {"force": True},
                "count": 20,
                "concurrency": 4,
                "expect_status": [404],
            }
        )
        KIND.inject(spec, ctx, Firing(7))
        action = ctx.timeline.wait_for(_instant, timeout=30.0)
        assert isinstance(action, FaultAction)
        assert action.fault == 7
        assert action.detail["by_status"] == {"404": 20}
        requests = ctx.timeline.of(Request)
        assert len(requests) == 20
        assert {r.workload for r in requests} == {"fault:7"}
        assert all(r.ok and r.status == 404 for r in requests)
        assert requests[0].body == {"error": "no running dataflow with ID nope"}
    finally:
        ctx.close()


def test_a_server_that_is_down_is_recorded_as_errors() -> None:
    ctx = RealContext()
    try:
        # A 200 was expected, and the port below has nothing listening: refused, not ok.
        with_closed_port = f"http://127.0.0.1:{_closed_port()}/x"
        KIND.inject(RequestSpec(url=with_closed_port, count=3, expect_status=[200]), ctx, Firing(0))
        action = ctx.timeline.wait_for(_instant, timeout=30.0)
        assert isinstance(action, FaultAction)
        assert action.detail["by_status"] == {"error": 3}
        requests = ctx.timeline.of(Request)
        assert [r.error for r in requests] == ["connection refused"] * 3
        assert not any(r.ok for r in requests)
    finally:
        ctx.close()


def test_a_non_loopback_url_is_refused_before_sending() -> None:
    ctx = RealContext()
    try:
        with pytest.raises(ValueError, match="non-loopback"):
            KIND.inject(RequestSpec(url="http://192.0.2.1:80/x"), ctx, Firing(0))
        assert ctx.timeline.of(Request) == []
    finally:
        ctx.close()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port

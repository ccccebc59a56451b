"""The clients of the workload kinds against real loopback servers and real programs."""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Iterator

import psutil
import pytest

from harness.system.subreaper import become_subreaper
from harness.workload.base import Target
from harness.workload.command import CommandClient, CommandWorkloadSpec
from harness.workload.http import HttpWorkloadSpec, KeepAliveClient
from harness.workload.tcp import TcpClient, TcpWorkloadSpec

from .server import JsonServer

_ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


class OneAnswerServer:
    """Answers one request per connection, kept alive, then closes it while idle."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.connections = 0
        self.closed_idle = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self.listener.getsockname()[1])

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.recv(65536)
                conn.sendall(_ANSWER)
            self.closed_idle.set()


@pytest.fixture
def one_answer() -> Iterator[OneAnswerServer]:
    server = OneAnswerServer()
    yield server
    server.listener.close()


def _target(port: int) -> Target:
    return Target(0, lambda template: template.replace("{port}", str(port)))


def test_a_kept_connection_the_server_closed_while_idle_is_replaced_not_failed(
    one_answer: OneAnswerServer,
) -> None:
    spec = HttpWorkloadSpec(url="http://127.0.0.1:{port}/", keep_alive=True, connections=1)
    client = KeepAliveClient(spec, _target(one_answer.port))
    try:
        first = client.call()
        assert first.status == 200
        assert first.structured
        assert one_answer.closed_idle.wait(10.0)
        second = client.call()
        assert second.status == 200, second
        assert client.pool.opened == 2
    finally:
        client.close()


def test_closing_a_keep_alive_client_ends_a_stalled_request_at_once(server: JsonServer) -> None:
    spec = HttpWorkloadSpec(url="http://127.0.0.1:{port}/gate", keep_alive=True, timeout="30s")
    client = KeepAliveClient(spec, _target(server.port))
    result: list[object] = []
    caller = threading.Thread(target=lambda: result.append(client.call()))
    caller.start()
    assert server.at_gate.wait(10.0)
    began = time.monotonic()
    client.close()
    caller.join(10.0)
    assert not caller.is_alive()
    assert time.monotonic() - began < 5.0
    (outcome,) = result
    assert getattr(outcome, "status", None) is None


def test_a_non_loopback_tcp_host_is_refused() -> None:
    spec = TcpWorkloadSpec(port="80", host="192.0.2.1", expect="x")
    with pytest.raises(ValueError, match="non-loopback"):
        TcpClient(spec, _target(1))


def test_tcp_reports_a_timeout_with_what_it_received() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        held: list[socket.socket] = []

        def accept() -> None:
            conn, _ = listener.accept()
            conn.sendall(b"+HALF")
            held.append(conn)

        threading.Thread(target=accept, daemon=True).start()
        spec = TcpWorkloadSpec(port="{port}", expect="^\\+HALF DONE", timeout="300ms")
        outcome = TcpClient(spec, _target(port)).call()
        for conn in held:
            conn.close()
    assert outcome.ok is False
    assert outcome.error is not None
    assert "timeout" in outcome.error
    assert "+HALF" in outcome.error


def test_a_command_that_hangs_is_killed_with_its_children_and_reaped() -> None:
    tag = "chaos-kinds-test-child"
    code = (
        "import subprocess, sys, time;"
        f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)', '{tag}']);"
        "print('started', flush=True); time.sleep(60)"
    )
    spec = CommandWorkloadSpec(argv=[sys.executable, "-c", code], timeout="1s")
    client = CommandClient(spec, _target(1))
    assert become_subreaper()  # as the harness is in a run: the left-behind child is ours
    me = psutil.Process()
    before = {child.pid for child in me.children(recursive=True)}  # other tests' leftovers
    began = time.monotonic()
    outcome = client.call()
    assert time.monotonic() - began < 5.0
    assert outcome.error == "timeout after 1s (killed)"
    assert outcome.value == "started\n"
    new = [child for child in me.children(recursive=True) if child.pid not in before]
    assert new == [], "a run (or what it left) was left unreaped"
    left = [p for p in psutil.process_iter(["cmdline"]) if tag in (p.info["cmdline"] or [])]
    assert left == []


def test_a_command_that_cannot_start_is_a_failed_request() -> None:
    spec = CommandWorkloadSpec(argv=["/nonexistent/client"])
    outcome = CommandClient(spec, _target(1)).call()
    assert outcome.status is None
    assert outcome.error is not None
    assert "cannot start '/nonexistent/client'" in outcome.error

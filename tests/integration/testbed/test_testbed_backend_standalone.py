"""The backend as a plain program (no channel), and ``--backend-port``: what bench/ needs to
run the same worker under supervisord, circus and the testbed."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request

import pytest
from support import wait_until
from testbed_helpers import DEADLINE, REPO, Factory

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def health(port: int) -> dict[str, object]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as resp:
        value = json.loads(resp.read())
    assert isinstance(value, dict)
    return value


def test_standalone_backend_says_ready_with_its_pid_and_port() -> None:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    argv = [sys.executable, "-S", "-m", "harness.testbed.backend", "--port", str(port)]
    proc = subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline().strip()
        assert line == f"[backend {proc.pid}] pid {proc.pid} ready on 127.0.0.1:{port}"
        assert health(port)["pid"] == proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)  # no handler standalone: SIGTERM ends it
        assert proc.wait(DEADLINE) == -signal.SIGTERM
        if proc.stderr is not None:
            proc.stderr.close()


def test_standalone_backend_exits_1_when_its_port_is_taken() -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        argv = [sys.executable, "-S", "-m", "harness.testbed.backend", "--port", str(port)]
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=DEADLINE)
    assert done.returncode == 1
    assert f"cannot bind 127.0.0.1:{port}" in done.stderr


def test_backend_port_is_kept_across_a_restart(testbed: Factory) -> None:
    port = free_port()
    bed = testbed("--modules", "0", "--workers", "0", "--backend-port", str(port))
    first = bed.slot("backend")
    assert first["port"] == port
    assert health(port)["pid"] == first["pid"]
    bed.kill_child("backend")
    again = bed.wait_slot(
        "backend",
        "a new backend running",
        lambda s: s["state"] == "running" and s["pid"] != first["pid"],
    )
    assert again["port"] == port
    wait_until(lambda: health(port)["pid"] == again["pid"], what="the new backend answers")

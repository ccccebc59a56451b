"""Helpers for the testbed integration tests: start a real supervisor, talk to it, end it."""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest
from support import wait_until

REPO = Path(__file__).resolve().parents[3]
DEADLINE = 20.0
# Scaled-down timers so heartbeat behaviour shows in seconds, not minutes.
FAST = ["--heartbeat", "0.25", "--heartbeat-threshold", "1.5", "--canary-ms", "50"]


def alive(pid: int | None) -> bool:
    """Is ``pid`` a live (non-zombie) process?"""
    if pid is None:
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


class Testbed:
    """One supervisor process started by a test."""

    __test__ = False

    def __init__(self, data_dir: Path, log: Path, args: list[str], wait_ready: bool) -> None:
        self.data_dir = data_dir
        self.log_path = log
        cmd = [sys.executable, "-m", "harness.testbed", "--data-dir", str(data_dir), *args]
        if "--port" not in args:
            cmd += ["--port", "0"]
        env = {k: v for k, v in os.environ.items() if k != "TESTBED_BUGS"}
        self._log = log.open("ab")
        self.proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=self._log
        )
        self.port = 0
        self.known_pids: set[int] = {self.proc.pid}
        if wait_ready:
            self.wait_ready()

    def wait_ready(self, timeout: float = DEADLINE) -> None:
        """Read the ready line from stdout."""
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.proc.stdout], [], [], max(0.0, left))
            if not ready:
                pytest.fail(f"testbed not ready in {timeout}s; log:\n{self.log()}")
            chunk = os.read(self.proc.stdout.fileno(), 1)
            if not chunk:
                pytest.fail(f"testbed exited ({self.proc.wait()}) before ready:\n{self.log()}")
            line += chunk
        text = line.decode().strip()
        assert text.startswith("listening on http://127.0.0.1:"), text
        self.port = int(text.rsplit(":", 1)[1])
        self.remember_pids()

    def log(self) -> str:
        """Everything the supervisor and its children wrote on stderr."""
        return self.log_path.read_text(errors="replace")

    def http(
        self, method: str, path: str, body: Any = None, timeout: float = 15.0
    ) -> tuple[int, Any]:
        """(status, JSON) of one request; status 0 when the connection failed."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")
        except (urllib.error.URLError, OSError, ValueError):
            return 0, None

    def status(self) -> dict[str, Any]:
        """GET /status (and remember every child pid seen, for clean-up)."""
        code, value = self.http("GET", "/status")
        assert code == 200, (code, value)
        assert isinstance(value, dict)
        self._remember(value)
        return value

    def _remember(self, status: dict[str, Any]) -> None:
        entries = [status["backend"], *status["modules"].values(), *status["workers"].values()]
        self.known_pids |= {e["pid"] for e in entries if e["pid"]}

    def remember_pids(self) -> None:
        """Record the current children (psutil) so clean-up can reach orphans too."""
        with contextlib.suppress(psutil.Error):
            self.known_pids |= {p.pid for p in psutil.Process(self.proc.pid).children(True)}

    def slot(self, name: str) -> dict[str, Any]:
        """The /status entry of ``backend``, ``m0``, ``w0``..."""
        status = self.status()
        if name == "backend":
            return dict(status["backend"])
        group = "modules" if name.startswith("m") else "workers"
        return dict(status[group][name])

    def wait_slot(self, name: str, what: str, check: Callable[[dict[str, Any]], bool],
                  timeout: float = DEADLINE) -> dict[str, Any]:  # fmt: skip
        """Wait until the slot's entry satisfies ``check``; return that entry."""
        found: dict[str, Any] = {}

        def probe() -> bool:
            found.update(self.slot(name))
            return check(found)

        wait_until(probe, what=f"{name}: {what}", timeout=timeout)
        return found

    def kill_child(self, name: str, sig: int = signal.SIGKILL) -> int:
        """Signal the slot's current process (a process this test started); its pid."""
        pid = int(self.slot(name)["pid"])
        assert pid in self.known_pids
        os.kill(pid, sig)
        return pid

    def stop(self, timeout: float = DEADLINE) -> int:
        """SIGTERM the supervisor and wait for it; its exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            self.cleanup()

    def cleanup(self) -> None:
        """SIGKILL whatever this test started that is still alive, then reap."""
        self.remember_pids()
        for pid in self.known_pids:
            if alive(pid):
                try:
                    os.kill(pid, signal.SIGCONT)
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.proc.wait(DEADLINE)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()


Factory = Callable[..., Testbed]

"""Proxies and disks inside a real trial: where they come from, what they never pretend to
be, and that nothing of them outlives the trial.

A trial's proxies listen before launch and are closed after the system's tree is gone;
their sockets are the harness's, so the system's recorded ports never include them. A
trial's disks are mounted before launch (the system's first write lands on them) and are
unmounted at teardown; ``--keep`` keeps what the system wrote.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness import SystemSession, Verdict, disks
from harness.disks.mounts import mounts_at
from harness.errors import ScenarioError
from harness.observe.events import FaultAction, PortListen, Request
from harness.run import system as system_module
from harness.run.catalog import scenario_from_mapping
from harness.run.runner import Run, RunOptions
from harness.run.trial import run_trial
from harness.system.subreaper import become_subreaper

PROGRAMS = Path(__file__).resolve().parents[1] / "programs"
READY_LOG = r"listening on http://127\.0\.0\.1:(?P<port>\d+)"
NO_DISKS = disks.available()


def served(**extra: Any) -> dict[str, Any]:
    """A tiny HTTP server (``programs/serve.py``) on ``{port}``, reached via proxy ``api``."""
    body: dict[str, Any] = {
        "name": "proxied",
        "timeout": "40s",
        "system": {
            "command": ["{python}", str(PROGRAMS / "serve.py"), "{port}"],
            "ready": {"log": READY_LOG, "timeout": "20s"},
            "stop": {"signal": "SIGTERM", "grace": "3s"},
        },
        "roles": {"server": {"root": True}},
        "proxies": {"api": {"upstream": "127.0.0.1:{ready.port}"}},
    }
    body.update(extra)
    return body


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return False
    return True


def _proxy_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "chaos-proxy"]


def test_a_trial_reaches_its_system_through_the_proxy_and_leaves_nothing() -> None:
    become_subreaper()
    scenario = scenario_from_mapping(
        served(
            workload=[
                {
                    "name": "ui",
                    "http": {"url": "http://127.0.0.1:{proxy.api}/health", "timeout": "3s"},
                    "rate": "20/s",
                }
            ],
            faults=[
                {"at": "300ms", "latency": {"proxy": "api", "latency": "400ms", "for": "700ms"}}
            ],
            duration="1.5s",
            invariants=[{"availability": {"workload": "ui", "min": "100%"}}],
        )
    )
    before = _proxy_threads()
    result = run_trial(scenario, 0, seed=1)
    assert result.verdict is Verdict.PASS, result.error or result.invariants
    actions = [e for e in result.events if isinstance(e, FaultAction)]
    assert [(a.kind, a.phase) for a in actions] == [("latency", "start"), ("latency", "end")]
    proxy_port = actions[0].detail["port"]
    system_ports = {e.port for e in result.events if isinstance(e, PortListen)}
    assert system_ports
    assert proxy_port not in system_ports
    start, end = actions[0].t, actions[1].t
    slowed = [
        r
        for r in result.events
        if isinstance(r, Request) and start + 0.05 < r.t < end - 0.45 and r.ok
    ]
    assert slowed
    assert all(r.latency_s >= 0.35 for r in slowed)
    assert not _listening(proxy_port)
    assert _proxy_threads() == before


def test_an_upstream_known_only_once_ready_is_resolved_at_each_connection(
    chaos_system: Callable[..., SystemSession],
) -> None:
    session = chaos_system(served(), wait_ready=False)
    proxy = session.system.proxies.get("api")
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as early:
        early.settimeout(10)
        assert early.recv(10) == b""  # {ready.port} not known yet: closed, not hung
    session.wait_ready()
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as later:
        later.sendall(b"GET /health HTTP/1.0\r\n\r\n")
        later.settimeout(10)
        assert later.recv(100).startswith(b"HTTP/1.0 200")
    assert "ready.port" in proxy.last_error or "TemplateError" in proxy.last_error


def test_readiness_is_never_fooled_by_a_proxy() -> None:
    body = served()
    body["system"]["ready"] = {"tcp": {"port": "{proxy.api}"}}
    with pytest.raises(ScenarioError, match="would check the proxy"):
        scenario_from_mapping(body)


# --------------------------------------------------------------------------- disks


def on_disk(**extra: Any) -> dict[str, Any]:
    """A system that writes a file on its disk at start, then serves."""
    script = (
        "import pathlib, runpy, sys; "
        "pathlib.Path(sys.argv[1], 'hello.txt').write_text('written by the system'); "
        "sys.argv = sys.argv[2:]; runpy.run_path(sys.argv[0], run_name='__main__')"
    )
    body = served(
        name="on-disk",
        system={
            "command": [
                "{python}",
                "-c",
                script,
                "{disk.data}",
                str(PROGRAMS / "serve.py"),
                "{port}",
            ],
            "ready": {"log": READY_LOG, "timeout": "20s"},
            "stop": {"signal": "SIGTERM", "grace": "3s"},
        },
        disks={"data": {"size": "1MiB"}},
    )
    del body["proxies"]
    body.update(extra)
    return body


@pytest.mark.skipif(NO_DISKS is not None, reason=f"disks unavailable here: {NO_DISKS}")
def test_the_system_writes_on_its_disk_from_the_start_and_the_mount_goes_at_the_end(
    chaos_system: Callable[..., SystemSession],
) -> None:
    session = chaos_system(on_disk())
    folder = Path(session.system.values[0]["disk.data"])
    assert [m.fstype for m in mounts_at(folder)] == ["tmpfs"]
    assert (folder / "hello.txt").read_text() == "written by the system"
    assert os.statvfs(folder).f_blocks * os.statvfs(folder).f_frsize == 1 << 20
    session.inject("disk_full", disk="data")
    assert os.statvfs(folder).f_bavail == 0
    session.close()
    assert mounts_at(folder) == []
    assert not folder.exists()  # the run folder is gone with it


@pytest.mark.skipif(NO_DISKS is not None, reason=f"disks unavailable here: {NO_DISKS}")
def test_keep_keeps_what_the_system_wrote_on_its_disk() -> None:
    become_subreaper()
    scenario = scenario_from_mapping(on_disk(duration="200ms"))
    result = run_trial(scenario, 0, seed=1, keep_run_dir=True)
    assert result.verdict is Verdict.PASS, result.error
    [folder] = list(Path(os.environ["TMPDIR"]).glob("chaos-on-disk-*/i0/disks/data"))
    try:
        assert mounts_at(folder) == []
        assert (folder / "hello.txt").read_text() == "written by the system"
    finally:
        shutil.rmtree(folder.parents[2])


def test_a_host_that_cannot_mount_skips_the_scenario_saying_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(system_module._disks, "available", lambda: "needs root (test)")
    scenario = scenario_from_mapping(on_disk())
    result = Run([scenario], RunOptions(seed=1)).execute()
    [skipped] = result.scenarios
    assert skipped.skipped == "this host cannot run it: disks: needs root (test)"
    assert skipped.trials == []

"""The supervisor on real processes: readiness, status truth, restarts, stop, orphans."""

from __future__ import annotations

import json
import signal
import socket
import sys
import time
import urllib.request

import psutil
import pytest
from support import wait_until
from testbed_helpers import Factory, alive

pytestmark = pytest.mark.integration


def test_status_shows_every_role_with_live_pids(testbed: Factory) -> None:
    bed = testbed("--modules", "2", "--workers", "2", "--instance-id", "alpha")
    status = bed.status()
    assert status["instance"] == "alpha"
    assert status["pid"] == bed.proc.pid
    assert status["port"] == bed.port
    assert status["bugs"] == []
    assert status["backend"]["state"] == "running"
    assert [m["state"] for m in status["modules"].values()] == ["ok", "ok"]
    assert [w["state"] for w in status["workers"].values()] == ["running", "running"]
    entries = [status["backend"], *status["modules"].values(), *status["workers"].values()]
    children = {p.pid: p for p in psutil.Process(bed.proc.pid).children()}
    assert {e["pid"] for e in entries} == set(children)
    for proc in children.values():
        argv = proc.cmdline()
        assert argv[0] == sys.executable  # the interpreter itself, never a shim
        assert argv[1:3] == ["-S", "-m"]  # standard library only, no site hooks
        assert argv[3].startswith("harness.testbed.")
    assert bed.http("GET", "/health")[0] == 200
    assert bed.http("GET", "/ready") == (
        200,
        {"ready": True, "instance": "alpha", "pid": bed.proc.pid},
    )
    code, echo = bed.http("POST", "/api/echo", {"text": "hi"})
    assert code == 200
    assert echo["text"] == "hi"
    assert echo["backend_pid"] == status["backend"]["pid"]
    assert echo["backend_instance"] == echo["instance"] == "alpha"


def test_sigterm_stops_children_and_exits_zero(testbed: Factory) -> None:
    bed = testbed()
    children = psutil.Process(bed.proc.pid).children()
    assert bed.stop() == 0
    assert not [c.pid for c in children if alive(c.pid)]
    assert "stopped" in bed.log()


@pytest.mark.parametrize("bug", ["", "no-restart"])
def test_backend_sigkill_is_restarted_unless_no_restart(testbed: Factory, bug: str) -> None:
    bed = testbed("--bugs", bug, "--retry-window", "1s")
    old = bed.kill_child("backend")
    if not bug:
        new = bed.wait_slot(
            "backend", "replaced", lambda s: s["pid"] != old and s["state"] == "running"
        )
        assert new["restarts"] == 1
        assert alive(new["pid"])
        return
    bed.wait_slot("backend", "seen dead", lambda s: s["state"] == "crashed")
    code, value = bed.http("POST", "/api/echo", {"text": "x"})  # spends the 1 s retry window
    assert (code, value["error"]) == (503, "recovering")
    entry = bed.slot("backend")
    assert (entry["state"], entry["restarts"], entry["pid"]) == ("crashed", 0, old)


@pytest.mark.parametrize("bug", ["", "client-no-retry"])
def test_gateway_rides_out_a_backend_restart(testbed: Factory, bug: str) -> None:
    # slow-restart keeps the backend down for a second: the retry window must cover it.
    bed = testbed("--bugs", ",".join(["slow-restart", *filter(None, [bug])]))
    old = bed.kill_child("backend")
    bed.wait_slot("backend", "seen dead", lambda s: s["state"] != "running")
    code, value = bed.http("POST", "/api/echo", {"text": "during"})
    if bug:
        assert code == 502
        assert value["error"].startswith("failed to fetch")
    else:
        assert code == 200
        assert value["backend_pid"] not in (None, old)
        assert value["text"] == "during"


@pytest.mark.parametrize("bug", ["", "slow-restart"])
def test_restart_has_no_fixed_delay_unless_slow_restart(testbed: Factory, bug: str) -> None:
    bed = testbed("--bugs", bug)
    old = bed.kill_child("backend")
    start = time.monotonic()
    bed.wait_slot("backend", "replaced", lambda s: s["pid"] != old and s["state"] == "running")
    took = time.monotonic() - start
    if bug:
        assert took >= 1.0
    else:
        assert took < 0.9  # typically ~30 ms; the bug adds a full second


def test_restart_intensity_ends_in_a_clear_failed_state(testbed: Factory) -> None:
    bed = testbed("--max-restarts", "3", "--retry-window", "0.5s")
    for _ in range(3):
        old = bed.kill_child("backend")
        bed.wait_slot(
            "backend", "replaced", lambda s, o=old: s["pid"] != o and s["state"] == "running"
        )
    bed.kill_child("backend")
    entry = bed.wait_slot("backend", "failed", lambda s: s["state"] == "failed")
    assert entry["restarts"] == 3
    assert "Max restart attempts reached" in entry["reason"]
    assert "gave up" in bed.log()
    assert bed.http("GET", "/ready")[0] == 503
    assert bed.http("POST", "/api/echo", {"text": "x"})[1]["error"] == "recovering"


@pytest.mark.parametrize("bug", ["", "orphans"])
def test_a_sigkilled_supervisor_leaves_no_orphans(testbed: Factory, bug: str) -> None:
    bed = testbed("--bugs", bug)
    status = bed.status()
    pids = [status["backend"]["pid"]]
    pids += [e["pid"] for e in [*status["modules"].values(), *status["workers"].values()]]
    bed.proc.send_signal(signal.SIGKILL)
    bed.proc.wait(10)
    if not bug:
        wait_until(lambda: not any(map(alive, pids)), what="children to die with the supervisor")
        return
    # The bug: re-parented away from the dead supervisor, the children live on and the
    # orphaned backend still serves.
    wait_until(
        lambda: all(psutil.Process(p).ppid() != bed.proc.pid for p in pids),
        what="children re-parented",
    )
    url = f"http://127.0.0.1:{status['backend']['port']}/health"
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert json.loads(resp.read())["pid"] == pids[0]
    assert all(map(alive, pids))


def test_a_taken_port_falls_back_to_a_free_one(testbed: Factory) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        bed = testbed("--port", str(taken))
        assert bed.port != taken
        assert bed.http("GET", "/health")[0] == 200
        assert f"port {taken} is taken; using free port {bed.port}" in bed.log()

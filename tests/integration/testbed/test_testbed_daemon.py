"""The daemon control API (dora): bad requests get error answers, the daemon lives on."""

from __future__ import annotations

import pytest
from support import wait_until
from testbed_helpers import Factory, alive

pytestmark = pytest.mark.integration


def test_bad_requests_get_clear_errors_and_the_daemon_keeps_ticking(testbed: Factory) -> None:
    bed = testbed("--modules", "1", "--workers", "0")
    pid = bed.proc.pid
    before = bed.http("GET", "/canary")[1]["ticks"]
    for i in range(25):
        code, value = bed.http("POST", f"/dataflows/gone{i}/stop")
        assert (code, value["error"]) == (404, f"no running dataflow with ID `gone{i}`")
        code, value = bed.http("POST", "/nodes/camera/config", {"fps": i})
        assert (code, value["error"]) == (400, "node with ID `camera` is not dynamic")
    assert bed.http("POST", "/nodes/plot/config", {"fps": 5})[0] == 200
    assert bed.http("GET", "/health")[1]["pid"] == pid
    wait_until(
        lambda: bed.http("GET", "/canary")[1]["ticks"] > before + 5,
        what="the canary to keep ticking",
    )
    assert bed.status()["modules"]["m0"]["restarts"] == 0


def test_a_stop_that_races_a_natural_finish_is_an_error_answer(testbed: Factory) -> None:
    bed = testbed("--modules", "0", "--workers", "0")
    code, flow = bed.http("POST", "/dataflows", {"ticks": 3, "period_ms": 20})
    assert code == 201

    def finished() -> bool:
        flows = bed.http("GET", "/dataflows")[1]["dataflows"]
        return {"id": flow["id"], "state": "finished"} in flows

    wait_until(finished, what="the dataflow to finish")
    code, value = bed.http("POST", f"/dataflows/{flow['id']}/stop")
    assert (code, value["error"]) == (404, f"no running dataflow with ID `{flow['id']}`")
    running = bed.http("POST", "/dataflows", {"ticks": 10_000, "period_ms": 50})[1]
    assert bed.http("POST", f"/dataflows/{running['id']}/stop")[0] == 200


@pytest.mark.parametrize("path", ["/dataflows/nope/stop", "/nodes/camera/config"])
def test_crash_on_unknown_id_takes_the_daemon_down(testbed: Factory, path: str) -> None:
    bed = testbed("--modules", "1", "--workers", "1", "--bugs", "crash-on-unknown-id")
    children = [bed.slot("m0")["pid"], bed.slot("w0")["pid"], bed.slot("backend")["pid"]]
    code, _ = bed.http("POST", path, {})
    assert code == 0  # no answer: the process went down with the request
    assert bed.proc.wait(20) != 0
    assert "daemon error propagated" in bed.log()
    wait_until(lambda: not any(map(alive, children)), what="children to die with the daemon")

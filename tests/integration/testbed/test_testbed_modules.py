"""Modules must register over IPC; their reported state must match the real process."""

from __future__ import annotations

import signal

import pytest
from support import wait_until
from testbed_helpers import Factory, alive

pytestmark = pytest.mark.integration
TIMED_OUT = "Module registration failed Error: Call timed out"


def test_a_killed_module_registers_again_and_status_follows(testbed: Factory) -> None:
    bed = testbed("--modules", "2", "--workers", "0")
    old = bed.kill_child("m0")
    seen: set[str] = set()

    def back_ok() -> bool:
        entry = bed.slot("m0")
        seen.add(entry["state"])
        return entry["state"] == "ok" and entry["pid"] != old

    wait_until(back_ok, what="m0 ok again with a new pid")
    entry = bed.slot("m0")
    assert alive(entry["pid"])
    assert entry["restarts"] == 1
    assert bed.slot("m1")["restarts"] == 0
    assert bed.http("GET", "/ready")[0] == 200
    assert TIMED_OUT not in bed.log()
    assert "before registration was answered" not in bed.log()


def test_exit_listener_removed_leaves_status_ok_on_a_dead_pid(testbed: Factory) -> None:
    bed = testbed("--modules", "1", "--workers", "0", "--bugs", "exit-listener-removed")
    old = bed.kill_child("m0")
    wait_until(lambda: TIMED_OUT in bed.log(), what="the silent respawn to time out")
    entry = bed.slot("m0")
    assert (entry["state"], entry["pid"], entry["restarts"]) == ("ok", old, 0)
    assert not alive(old)  # the status describes a process that does not exist
    bed.remember_pids()


def test_stale_registration_makes_the_respawn_time_out_and_loop(testbed: Factory) -> None:
    bed = testbed("--modules", "1", "--workers", "0", "--bugs", "stale-registration")
    bed.kill_child("m0")
    wait_until(lambda: TIMED_OUT in bed.log(), what="Call timed out")
    assert "got 'vars' before registration was answered" in bed.log()
    bed.wait_slot("m0", "a restart loop", lambda s: s["restarts"] >= 2)


@pytest.mark.parametrize("bug", ["", "no-heartbeat-check"])
def test_a_frozen_module_is_replaced(testbed: Factory, bug: str) -> None:
    bed = testbed("--modules", "1", "--workers", "0", "--bugs", bug)
    ticks = bed.http("GET", "/canary")[1]["ticks"]
    old = bed.kill_child("m0", signal.SIGSTOP)
    if not bug:
        entry = bed.wait_slot("m0", "replaced", lambda s: s["pid"] != old and s["state"] == "ok")
        assert entry["restarts"] == 1
        assert "no heartbeat" in bed.log()
        return
    # The bug: past three heartbeat thresholds (1.5 s each) the frozen module is still "ok".
    wait_until(
        lambda: bed.http("GET", "/canary")[1]["ticks"] > ticks + 90, what="4.5 s of canary ticks"
    )
    entry = bed.slot("m0")
    assert (entry["pid"], entry["state"], entry["restarts"]) == (old, "ok", 0)
    assert "no heartbeat" not in bed.log()

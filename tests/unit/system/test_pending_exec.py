"""When a forked child that has not exec'd yet gets its role decided anyway."""

from __future__ import annotations

import os

from harness.system import procfs
from harness.system.pending import EXEC_WAIT_MAX_S, EXEC_WAIT_S, still_exec_bound


def test_a_child_that_has_barely_run_keeps_waiting_until_the_cap() -> None:
    assert still_exec_bound(EXEC_WAIT_S, ("R", 0.0001)), "not scheduled yet"
    assert still_exec_bound(EXEC_WAIT_S * 5, ("D", 0.004)), "mid-exec, loading the image"
    assert still_exec_bound(EXEC_WAIT_S, ("S", 0.001)), "blocked before its exec"
    assert not still_exec_bound(EXEC_WAIT_MAX_S, ("R", 0.0001)), "never undecided for good"


def test_a_child_at_work_without_exec_or_stopped_is_decided_on_time() -> None:
    assert not still_exec_bound(EXEC_WAIT_S, ("R", 0.2)), "it runs its own code: pre-fork"
    assert not still_exec_bound(EXEC_WAIT_S, ("S", 0.06)), "it ran, then blocked"
    assert not still_exec_bound(EXEC_WAIT_S, ("T", 0.0)), "stopped: it will not exec now"
    assert not still_exec_bound(EXEC_WAIT_S, ("Z", 0.0)), "dead"
    assert not still_exec_bound(EXEC_WAIT_S, None), "unknown: the plain exec wait"


def test_run_state_reads_this_process() -> None:
    state = procfs.run_state(os.getpid())
    assert state is not None
    letter, run_s = state
    assert letter == "R"
    assert run_s > 0.0
    assert procfs.run_state(2**22 + 1) is None


def test_with_exec_events_a_sleeping_child_is_not_on_its_way_to_an_exec() -> None:
    """The event reports an exec when done, so only a child not yet scheduled waits."""
    assert not still_exec_bound(EXEC_WAIT_S, ("S", 0.001), exec_events=True), "a daemon at rest"
    assert still_exec_bound(EXEC_WAIT_S, ("R", 0.0001), exec_events=True), "not scheduled yet"
    assert still_exec_bound(EXEC_WAIT_S, ("D", 0.004), exec_events=True), "loading the image"
    assert not still_exec_bound(EXEC_WAIT_MAX_S, ("R", 0.0), exec_events=True), "the cap holds"

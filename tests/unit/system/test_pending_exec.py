"""When a forked child that has not exec'd yet gets its role decided anyway."""

from __future__ import annotations

import os

from harness.system import procfs
from harness.system.pending import EXEC_WAIT_MAX_S, EXEC_WAIT_S, still_exec_bound


def test_a_starved_runnable_child_keeps_waiting_until_the_cap() -> None:
    assert still_exec_bound(EXEC_WAIT_S, ("R", 0.0001))
    assert still_exec_bound(EXEC_WAIT_S * 5, ("D", 0.0))
    assert not still_exec_bound(EXEC_WAIT_MAX_S, ("R", 0.0001)), "never undecided for good"


def test_a_child_that_runs_or_sleeps_without_exec_is_decided_on_time() -> None:
    assert not still_exec_bound(EXEC_WAIT_S, ("R", 0.05)), "it has had the CPU: a pre-fork child"
    assert not still_exec_bound(EXEC_WAIT_S, ("S", 0.0001)), "blocked, not on its way to exec"
    assert not still_exec_bound(EXEC_WAIT_S, ("T", 0.0)), "stopped"
    assert not still_exec_bound(EXEC_WAIT_S, None), "unknown: the old rule"


def test_run_state_reads_this_process() -> None:
    state = procfs.run_state(os.getpid())
    assert state is not None
    letter, run_s = state
    assert letter == "R"
    assert run_s > 0.0
    assert procfs.run_state(2**22 + 1) is None

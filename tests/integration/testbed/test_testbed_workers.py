"""Workers on the SQLite queue: no job lost, none finished twice, poison jobs bounded."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest
from support import wait_until
from testbed_helpers import Factory, Testbed, alive

from harness.testbed import jobs

pytestmark = pytest.mark.integration


def post_job(bed: Testbed, **spec: Any) -> str:
    code, value = bed.http("POST", "/jobs", spec)
    assert code == 201, value
    return str(value["id"])


def job(bed: Testbed, job_id: str) -> dict[str, Any]:
    code, value = bed.http("GET", f"/jobs/{job_id}")
    assert code == 200, value
    return dict(value)


def wait_job(bed: Testbed, job_id: str, what: str, check: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}

    def probe() -> bool:
        found.update(job(bed, job_id))
        return bool(check(found))

    wait_until(probe, what=f"job {job_id}: {what}")
    return found


def canary_wait(bed: Testbed, seconds: float) -> None:
    """Let ``seconds`` of the supervisor's own canary pass (evidence of elapsed time)."""
    start = bed.http("GET", "/canary")[1]["ticks"]
    need = start + int(seconds / 0.05)
    wait_until(
        lambda: bed.http("GET", "/canary")[1]["ticks"] >= need, what=f"{seconds}s of canary ticks"
    )


def test_jobs_run_once_and_finish(testbed: Factory) -> None:
    bed = testbed("--modules", "0", "--workers", "2")
    ids = [post_job(bed, seconds=0.05) for _ in range(10)]
    for job_id in ids:
        done = wait_job(bed, job_id, "finished", lambda j: j["state"] == "finished")
        assert (done["runs"], done["attempts"], done["error"]) == (1, 1, None)
    assert bed.http("GET", "/jobs")[1]["finished"] == 10


@pytest.mark.parametrize("bug", ["", "unbounded-requeue"])
def test_a_poison_job_cannot_crash_loop_workers(testbed: Factory, bug: str) -> None:
    bed = testbed("--modules", "0", "--workers", "1", "--bugs", bug)
    job_id = post_job(bed, poison=True)
    if not bug:
        failed = wait_job(bed, job_id, "failed", lambda j: j["state"] == "failed")
        assert (failed["error"], failed["attempts"], failed["runs"]) == ("ProcessExitError", 1, 0)
        entry = bed.wait_slot("w0", "replaced", lambda s: s["state"] == "running")
        assert entry["restarts"] == 1
        return
    looping = wait_job(bed, job_id, "re-run again and again", lambda j: j["attempts"] >= 3)
    assert looping["error"] is None
    assert bed.slot("w0")["restarts"] >= 2


def test_retries_are_explicit_and_bounded(testbed: Factory) -> None:
    bed = testbed("--modules", "0", "--workers", "1")
    job_id = post_job(bed, poison=True, retries=2)
    failed = wait_job(bed, job_id, "failed", lambda j: j["state"] == "failed")
    assert (failed["attempts"], failed["error"]) == (3, "ProcessExitError")


@pytest.mark.parametrize("bug", ["", "no-prune"])
def test_jobs_of_a_killed_worker_are_failed_at_once(testbed: Factory, bug: str) -> None:
    bed = testbed("--modules", "0", "--workers", "1", "--bugs", bug)
    job_id = post_job(bed, seconds=60)
    claimed = wait_job(bed, job_id, "claimed", lambda j: j["state"] == "claimed")
    pid = bed.kill_child("w0")
    assert claimed["worker_pid"] == pid
    if not bug:
        failed = wait_job(bed, job_id, "failed", lambda j: j["state"] == "failed")
        assert (failed["error"], failed["runs"]) == ("ProcessExitError", 0)
        return
    bed.wait_slot("w0", "replaced", lambda s: s["pid"] != pid and s["state"] == "running")
    canary_wait(bed, 3.0)  # twice the 1.5 s prune threshold
    stuck = job(bed, job_id)
    assert (stuck["state"], stuck["worker_pid"]) == ("claimed", pid)
    assert not alive(pid)


@pytest.mark.parametrize("bug", ["", "no-heartbeat-check"])
def test_a_frozen_worker_is_pruned_and_replaced(testbed: Factory, bug: str) -> None:
    bed = testbed("--modules", "0", "--workers", "1", "--bugs", bug)
    job_id = post_job(bed, seconds=60)
    wait_job(bed, job_id, "claimed", lambda j: j["state"] == "claimed")
    pid = bed.kill_child("w0", signal.SIGSTOP)
    if not bug:
        failed = wait_job(bed, job_id, "pruned", lambda j: j["state"] == "failed")
        assert failed["error"] == "ProcessPrunedError"
        bed.wait_slot("w0", "replaced", lambda s: s["pid"] != pid and s["state"] == "running")
        return
    canary_wait(bed, 4.5)  # three thresholds
    entry = bed.slot("w0")
    assert (entry["pid"], entry["restarts"]) == (pid, 0)
    assert entry["last_heartbeat_age_s"] > 3.0
    assert job(bed, job_id)["state"] == "claimed"


@pytest.mark.parametrize("bug", ["", "no-prune"])
def test_jobs_left_by_a_dead_supervisor_are_pruned(
    testbed: Factory, tmp_path: Path, bug: str
) -> None:
    data = tmp_path / "shared"
    first = testbed("--modules", "0", "--workers", "1", data_dir=data)
    job_id = post_job(first, seconds=60)
    wait_job(first, job_id, "claimed", lambda j: j["state"] == "claimed")
    worker = first.slot("w0")["pid"]
    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait(10)
    wait_until(lambda: not alive(worker), what="the worker to die with its supervisor")
    second = testbed("--modules", "0", "--workers", "1", "--bugs", bug, data_dir=data)
    if not bug:
        failed = wait_job(second, job_id, "pruned", lambda j: j["state"] == "failed")
        assert (failed["error"], failed["runs"]) == ("ProcessPrunedError", 0)
        assert "pruned dead process w0" in second.log()
        return
    canary_wait(second, 3.0)
    assert job(second, job_id)["state"] == "claimed"


@pytest.mark.parametrize("bug", ["", "no-graceful-shutdown"])
def test_sigterm_finishes_or_releases_jobs(testbed: Factory, bug: str) -> None:
    bed = testbed("--modules", "0", "--workers", "2", "--grace", "3s", "--bugs", bug)
    short = post_job(bed, seconds=1.0)
    long = post_job(bed, seconds=60)
    for job_id in (short, long):
        wait_job(bed, job_id, "claimed", lambda j: j["state"] == "claimed")
    assert bed.stop() == 0
    conn = jobs.connect(bed.data_dir / "jobs.sqlite3")
    try:
        states = {job_id: jobs.get(conn, job_id) for job_id in (short, long)}
    finally:
        conn.close()
    got = {k: (v["state"], v["runs"]) for k, v in states.items() if v is not None}
    if not bug:
        assert got == {short: ("finished", 1), long: ("ready", 0)}
    else:
        assert got == {short: ("claimed", 0), long: ("claimed", 0)}

"""Pure parts of the testbed: bug names, the job queue's exclusivity, the daemon's errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.testbed import jobs
from harness.testbed.bugs import BUGS, UnknownBugError, describe, enabled_bugs, parse_bugs
from harness.testbed.cli import main, seconds
from harness.testbed.daemon import Daemon, NodeNotDynamicError, NoSuchDataflowError

EXPECTED_BUGS = {
    "no-restart", "client-no-retry", "fixed-port", "shared-data", "crash-on-unknown-id",
    "exit-listener-removed", "stale-registration", "no-prune", "unbounded-requeue",
    "no-graceful-shutdown", "orphans", "no-heartbeat-check", "slow-restart",
    "no-backend-timeout", "drop-on-write-error", "tick-drop", "oom-clean-exit",
}  # fmt: skip


def test_every_bug_of_the_contract_exists() -> None:
    assert set(BUGS) == EXPECTED_BUGS
    assert [line.split("  ")[0] for line in describe()] == list(BUGS)


def test_bug_parsing() -> None:
    assert parse_bugs("") == frozenset()
    assert parse_bugs(" no-restart , orphans") == {"no-restart", "orphans"}
    assert enabled_bugs("orphans", {"TESTBED_BUGS": "no-prune"}) == {"orphans", "no-prune"}
    with pytest.raises(UnknownBugError, match=r"unknown bug profile.*nope.*known: no-restart"):
        parse_bugs("no-restart,nope")


def test_cli_lists_bugs_and_refuses_unknown_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--list-bugs"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(BUGS)
    assert lines[0].startswith("no-restart  ")
    assert main(["--bugs", "bogus", "--data-dir", "unused"]) == 2
    assert "unknown bug profile(s): bogus" in capsys.readouterr().err


def test_durations() -> None:
    assert seconds("500ms") == 0.5
    assert seconds("2s") == 2.0
    assert seconds("1.5") == 1.5


def test_a_job_never_ends_both_finished_and_failed(tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite3"
    jobs.create(path)
    conn = jobs.connect(path)
    proc = jobs.register_process(conn, 1, "w0", 0)
    job_id = jobs.enqueue(conn, 0.1, poison=False, retries=0)
    claimed = jobs.claim(conn, proc, 1)
    assert claimed is not None
    assert claimed["id"] == job_id
    assert jobs.fail_claimed(conn, proc, jobs.PROCESS_EXIT) == 1
    assert not jobs.finish(conn, job_id, proc)  # too late: it failed
    job = jobs.get(conn, job_id)
    assert job is not None
    assert (job["state"], job["runs"], job["error"]) == ("failed", 0, jobs.PROCESS_EXIT)
    conn.close()


def test_explicit_retries_are_bounded(tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite3"
    jobs.create(path)
    conn = jobs.connect(path)
    proc = jobs.register_process(conn, 1, "w0", 0)
    job_id = jobs.enqueue(conn, 0.1, poison=True, retries=1)
    states = []
    for _ in range(3):
        if jobs.claim(conn, proc, 1) is not None:
            jobs.fail_claimed(conn, proc, jobs.PROCESS_EXIT)
        job = jobs.get(conn, job_id)
        assert job is not None
        states.append((job["state"], job["attempts"]))
    assert states == [("ready", 1), ("failed", 2), ("failed", 2)]
    assert jobs.counts(conn) == {"ready": 0, "claimed": 0, "finished": 0, "failed": 1}
    conn.close()


def test_daemon_errors_use_doras_wording() -> None:
    daemon = Daemon(canary_ms=0)
    with pytest.raises(NoSuchDataflowError, match="no running dataflow with ID `x`"):
        daemon.stop_dataflow("x")
    with pytest.raises(NodeNotDynamicError, match="node with ID `camera` is not dynamic"):
        daemon.node_config("camera", {})
    assert daemon.node_config("plot", {"a": 1})["applied"] is True
    flow = daemon.start_dataflow(ticks=3, period_ms=10)
    assert daemon.stop_dataflow(flow.id).state == "stopped"
    with pytest.raises(NoSuchDataflowError):
        daemon.stop_dataflow(flow.id)

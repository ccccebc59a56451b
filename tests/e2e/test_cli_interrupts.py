"""The harness itself dies or is stopped mid-trial.

SIGKILL: the journal on disk is still complete JSON, and the run's guardian ends the
system and removes its folders at once (``test_cli_containment`` has the next run reaping
what survived harness and guardian both). SIGTERM / SIGINT: the run tears the system
down, writes its journal and exits 3.
"""

from __future__ import annotations

import json
import signal
import subprocess

import jsonschema
import psutil
import pytest
from e2e_support import ROOT, Chaos, only_trial, read_journal, supervisor_scenario
from support import wait_until

from harness.system.marker import read_marker

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

LONG = """\
    name: long-running
    timeout: 120s
    system:
      command: ["{python}", "{SYSTEMS}/supervisor.py", --port, "{port}", --pids, "PIDS"]
      ready: {log: 'worker listening on \\d+', timeout: 20s}
      stop: {signal: SIGTERM, grace: 3s}
    roles:
      supervisor: {root: true}
      worker: {cmdline: 'systems/worker\\.py', count: 1}
    duration: 90s
    """


def start_long_run(chaos: Chaos) -> tuple[subprocess.Popen[str], list[int]]:
    """Start ``chaos run`` on a 90 s scenario; return it and the system's pids once up."""
    pids_file = chaos.home / "system.pids"
    path = chaos.scenario("long.yaml", LONG.replace("PIDS", str(pids_file)))
    proc = chaos.start("run", path)
    wait_until(pids_file.exists, what="the system to write its pids")
    pids = [int(line) for line in pids_file.read_text(encoding="utf-8").split()]
    assert len(pids) == 2
    return proc, pids


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_sigkilled_harness_leaves_a_valid_journal_and_nothing_running(chaos: Chaos) -> None:
    proc, pids = start_long_run(chaos)
    for pid in pids:
        marker = read_marker(pid)
        assert marker is not None
        assert marker.harness_pid == proc.pid

    proc.kill()
    killed = chaos.finish(proc)

    assert killed.returncode == -signal.SIGKILL
    journal = read_journal(chaos.home / "reports" / "journal.json")
    jsonschema.validate(
        journal, json.loads((ROOT / "harness/results/journal.schema.json").read_text("utf-8"))
    )
    assert [s["name"] for s in journal["scenarios"]] == ["long-running"]
    wait_until(
        lambda: not any(alive(pid) for pid in pids), what="the guardian to end them", timeout=5.0
    )
    wait_until(
        lambda: not list(chaos.tmpdir.glob("chaos-long-running-*")),
        what="the guardian to remove the trial's folder",
        timeout=5.0,
    )

    small = chaos.scenario("small.yaml", supervisor_scenario("small", duration="1500ms"))
    result = chaos.run("run", small, "--out", "next")
    assert result.returncode == 0, result


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stopped_harness_tears_down_writes_journal_exits_3(
    chaos: Chaos, signum: signal.Signals
) -> None:
    proc, pids = start_long_run(chaos)

    proc.send_signal(signum)
    result = chaos.finish(proc, deadline=60.0)

    assert result.returncode == 3, result
    assert "interrupted" in result.stderr, result
    assert "Traceback" not in result.stderr, result
    assert not any(alive(pid) for pid in pids)
    assert chaos.marked_processes() == []
    journal = read_journal(chaos.home / "reports" / "journal.json")
    (scenario,) = journal["scenarios"]
    (trial,) = scenario["trials"]
    assert any(e["type"] == "teardown" for e in trial["events"]), "teardown was recorded"
    assert journal["finished"], "the journal was completed"
    assert trial["verdict"] == "error", "a trial cut short is not judged pass or fail"
    assert "interrupted" in trial["error"]


STARTING = """\
    name: slow-to-start
    timeout: 300s
    system:
      command: ["{python}", "{SYSTEMS}/never_ready.py"]
      ready: {log: 'listening', timeout: 240s}
      stop: {signal: SIGTERM, grace: 2s}
    duration: 1s
    """


def test_interrupt_during_start_up_does_not_wait_for_the_ready_timeout(chaos: Chaos) -> None:
    proc = chaos.start("run", chaos.scenario("starting.yaml", STARTING))
    wait_until(chaos.marked_processes, what="the system to be started", interval=0.05)
    proc.send_signal(signal.SIGINT)
    result = chaos.finish(proc, deadline=60.0)  # far below the 240 s ready timeout

    assert result.returncode == 3, result
    assert "Traceback" not in result.stderr, result
    assert chaos.marked_processes() == []
    trial = only_trial(chaos.home)
    assert trial["verdict"] == "error"
    assert "interrupted" in trial["error"]

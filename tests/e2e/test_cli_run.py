"""``chaos run`` on tiny purpose-written systems: the harness is generic, verdicts are right.

The systems (``tests/e2e/systems/``) are a few lines of stdlib Python each: a supervisor
that restarts its worker (optionally too slowly), a program that never becomes ready. A
command that does not exist is a failed trial with a clear message, never a traceback.
"""

from __future__ import annotations

import re

import pytest
from e2e_support import Chaos, read_journal, supervisor_scenario

pytestmark = pytest.mark.e2e


def test_supervisor_that_restarts_passes(chaos: Chaos) -> None:
    path = chaos.scenario("restart.yaml", supervisor_scenario("tiny-restart"))

    result = chaos.run("run", path)

    assert result.returncode == 0, result
    assert "PASS tiny-restart" in result.stdout, result
    journal = read_journal(chaos.home / "reports" / "journal.json")
    (trial,) = journal["scenarios"][0]["trials"]
    assert trial["verdict"] == "pass"
    assert {i["kind"]: i["verdict"] for i in trial["invariants"]} == {
        "recovers": "pass",
        "alive": "pass",
    }
    kills = [e for e in trial["events"] if e["type"] == "fault" and e.get("kind") == "kill"]
    assert kills, "the worker was really killed"
    assert len(trial["metrics"]["recovery_s"]) == 1


def test_slow_restart_fails_naming_the_invariant_and_the_recovery_seen(chaos: Chaos) -> None:
    # The restart waits 2.5s; the invariant allows 1s; the trial observes 3.5s after it.
    path = chaos.scenario(
        "slow.yaml", supervisor_scenario("tiny-slow", restart_delay="2.5", duration="3.5s")
    )

    result = chaos.run("run", path)

    assert result.returncode == 1, result
    assert "FAIL tiny-slow" in result.stdout, result
    failed = re.search(r"recovers: worker respawned in (\d+\.\d+) s after the kill", result.stdout)
    assert failed, result
    assert float(failed.group(1)) >= 2.5
    assert "expected within 1s" in result.stdout, result
    assert "Traceback" not in result.stdout + result.stderr


def test_no_restart_fails_as_never_recovered(chaos: Chaos) -> None:
    path = chaos.scenario(
        "none.yaml", supervisor_scenario("tiny-none", extra_args=", --no-restart")
    )

    result = chaos.run("run", path)

    assert result.returncode == 1, result
    assert "recovers:" in result.stdout, result
    assert "not restarting the worker" in result.stdout, "the output tail is shown"
    journal = read_journal(chaos.home / "reports" / "journal.json")
    (trial,) = journal["scenarios"][0]["trials"]
    verdicts = {i["kind"]: i["verdict"] for i in trial["invariants"]}
    assert verdicts == {"recovers": "fail", "alive": "pass"}


NEVER_READY = """\
    name: never-ready
    timeout: 20s
    system:
      command: ["{python}", "{SYSTEMS}/never_ready.py"]
      ready: {log: 'listening', timeout: 1500ms}
      stop: {signal: SIGTERM, grace: 2s}
    duration: 1s
    """


def test_system_that_never_becomes_ready_fails_with_its_output(chaos: Chaos) -> None:
    path = chaos.scenario("never.yaml", NEVER_READY)

    result = chaos.run("run", path)

    assert result.returncode == 1, result
    assert "did not become ready" in result.stdout, result
    assert "waiting for a database that will never answer" in result.stdout, result
    assert "database connection refused" in result.stdout, "stderr is in the tail too"
    assert "Traceback" not in result.stdout + result.stderr


def test_command_that_does_not_exist_fails_clearly(chaos: Chaos) -> None:
    missing = chaos.home / "no-such-program"
    path = chaos.scenario(
        "missing.yaml",
        f"""\
        name: missing-program
        timeout: 20s
        system:
          command: ["{missing}", --serve]
          ready: {{log: 'ready', timeout: 5s}}
        duration: 1s
        """,
    )

    result = chaos.run("run", path)

    assert result.returncode == 1, result
    assert str(missing) in result.stdout, result
    assert "could not be started" in result.stdout, result
    assert "Traceback" not in result.stdout + result.stderr

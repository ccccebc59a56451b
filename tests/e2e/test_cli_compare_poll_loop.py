"""``chaos compare`` when kills in one trial are correlated: the testbed notices deaths on a
0.5 s poll loop (``--reap-poll``, like uvicorn's), so the two kills of a trial land at the
same point of the loop and recover in nearly the same time, while trials differ by up to
half a second. Counted per fault, two runs of one version looked "regressed (p=0.009)";
counted per trial, they never do, and a slow restart still is."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e_support import Chaos, read_journal

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

LOOP_S = 0.5
"""The testbed's ``--reap-poll`` below."""

SCENARIO = """\
name: poll-loop-backend
description: Two kills per trial of a backend whose supervisor reaps on a 0.5 s loop.
requires: [python3]
timeout: 40s
vars: {bugs: ""}
system:
  command: ["{python}", -m, harness.testbed, --port, "{port}", --data-dir, "{run_dir}/data",
            --bugs, "{bugs}", --modules, "0", --workers, "0", --reap-poll, 500ms]
  ready:
    log: 'listening on http://127\\.0\\.0\\.1:(?P<port>\\d+)'
    timeout: 20s
roles:
  supervisor: {root: true}
  backend:
    cmdline: 'harness\\.testbed\\.backend'
    count: 1
    ready: {log: 'pid (?P<pid>\\d+) ready \\(t='}
workload:
  - name: ui
    http: {url: "http://127.0.0.1:{ready.port}/api/echo", method: POST, json: {text: hi},
           timeout: 10s}
    rate: 20/s
faults:                       # 1.5 s apart: three turns of the loop, the same phase
  - {at: 1s, kill: {role: backend}}
  - {at: 2.5s, kill: {role: backend}}
duration: 4s
invariants:
  - recovers: {role: backend, until: ready, within: 3s}
"""


def run_five(chaos: Chaos, scenario: str, out: str, *extra: str, kills: int = 2) -> str:
    """Five trials; each must have measured ``kills`` recoveries (a slow restart may still
    be restarting when the trial ends after its second kill)."""
    result = chaos.run("run", scenario, "--repeat", "5", "--jobs", "2", "--out", out, *extra)
    assert result.returncode in (0, 1), result
    journal = read_journal(chaos.home / out / "journal.json")
    trials = journal["scenarios"][0]["trials"]
    for trial in trials:
        assert len(trial["metrics"]["recovery_ready_s"]) >= kills, f"{out}: kills measured"
    return str(chaos.home / out / "journal.json")


def loop_distance(a: float, b: float, period: float = LOOP_S) -> float:
    """How far apart two recoveries are on the loop's circle (0 ≤ distance ≤ period / 2)."""
    gap = abs(a - b) % period
    return min(gap, period - gap)


def test_correlated_kills_do_not_fail_an_unchanged_version_but_a_slow_restart_does(
    chaos: Chaos,
) -> None:
    scenario = str(chaos.scenario("poll-loop.yaml", SCENARIO))
    fixed1 = run_five(chaos, scenario, "fixed1")
    fixed2 = run_five(chaos, scenario, "fixed2")
    slow = run_five(chaos, scenario, "slow", "--var", "bugs=slow-restart", kills=1)

    same = chaos.run("compare", fixed1, fixed2)
    reversed_ = chaos.run("compare", fixed2, fixed1)
    regressed = chaos.run("compare", fixed1, slow)

    # The loop really correlates the kills of a trial: each trial's two recoveries (kill →
    # spawned) sit at the same phase of the 0.5 s loop, within a few tens of ms of each other
    # although trials spread widely. The phase is circular: a kill just after a turn waits
    # 0.5 s and one just before waits ~0, yet both are the same point of the loop.
    spawned = [
        t["metrics"]["recovery_spawned_s"]
        for journal in (fixed1, fixed2)
        for t in read_journal(Path(journal))["scenarios"][0]["trials"]
    ]
    assert max(loop_distance(a, b) for a, b in spawned) < 0.2, spawned
    assert max(a for a, _ in spawned) - min(a for a, _ in spawned) > 0.1, spawned
    assert same.returncode == 0, same
    assert reversed_.returncode == 0, reversed_
    assert regressed.returncode == 1, regressed
    assert "poll-loop-backend" in regressed.stdout
    assert "regressed" in regressed.stdout
    assert "Traceback" not in same.stderr + reversed_.stderr + regressed.stderr

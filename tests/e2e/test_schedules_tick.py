"""The acceptance of seeded schedules, on a bug that shows only at some phases of a tick.

The testbed restarts its children on a 1 s tick counted from ready (``--restart-tick``),
and with ``tick-drop`` loses every death in the second half of a tick. A kill at a fixed
time lands at one phase in every trial: it escapes in all of them. The same kill with
``jitter: 1s`` lands at a phase drawn from each trial's seed: the trials whose draw falls in
the second half fail, the others pass, exactly as the planned schedules say. And ``chaos
shrink`` takes a failing trial of four kills down to the one kill that matters.
"""

from __future__ import annotations

from typing import Any

import pytest
from e2e_support import Chaos, read_journal

from harness.run.catalog import load_scenario
from harness.run.runner import trial_seed
from harness.schedule.plan import plan

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TICK = 1.0


def tick_scenario(name: str, faults: str, *, duration: str = "3.5s", workers: int = 0) -> str:
    return f"""\
        name: {name}
        timeout: 30s
        vars: {{bugs: tick-drop}}
        system:
          command: ["{{python}}", -m, harness.testbed, --port, "{{port}}", --data-dir,
                    "{{run_dir}}/data", --bugs, "{{bugs}}", --modules, "0",
                    --workers, "{workers}", --restart-tick, {TICK:g}s]
          ready: {{log: 'listening on http://127\\.0\\.0\\.1:(?P<port>\\d+)', timeout: 20s}}
        roles:
          supervisor: {{root: true}}
          worker: {{cmdline: 'harness\\.testbed\\.worker'}}
          backend:
            cmdline: 'harness\\.testbed\\.backend'
            count: 1
            ready: {{log: 'pid (?P<pid>\\d+) ready \\(t='}}
        faults:
{faults}
        duration: {duration}
        invariants:
          - recovers: {{role: backend, until: ready, within: 2s}}
        """


def verdicts(journal: dict[str, Any]) -> list[str]:
    return [t["verdict"] for s in journal["scenarios"] for t in s["trials"]]


def test_a_fixed_time_escapes_every_trial_and_jitter_catches_the_bug(chaos: Chaos) -> None:
    fixed = chaos.scenario(
        "fixed.yaml",
        tick_scenario("tick-fixed", "          - {at: 1.25s, kill: {role: backend}}"),
    )
    jittered = chaos.scenario(
        "jittered.yaml",
        tick_scenario(
            "tick-jitter", "          - {at: 1s, jitter: 1s, kill: {role: backend}}", duration="4s"
        ),
    )

    escaped = chaos.run("run", fixed, "--repeat", "4", "--jobs", "2", "--seed", "4", "--out", "a")
    # Seed 15 draws no phase within 200 ms before a half-tick edge: a kill fired late on a
    # loaded machine (they are never early) stays in the half the plan says.
    caught = chaos.run(
        "run", jittered, "--repeat", "6", "--jobs", "2", "--seed", "15", "--out", "b"
    )

    # Fixed: every kill lands 0.25 s into a tick, so it is restarted at the next check.
    assert escaped.returncode == 0, escaped
    assert verdicts(read_journal(chaos.home / "a" / "journal.json")) == ["pass"] * 4
    # Jittered: the phase of each trial's kill is its planned time less 1 s; those in the
    # second half of the tick are never restarted.
    assert caught.returncode == 1, caught
    scenario = load_scenario(jittered)
    phases = [
        (plan(scenario, trial_seed(15, "tick-jitter", i)).steps[0].at or 0.0) - 1.0
        for i in range(6)
    ]
    expected = ["fail" if 0.5 < phase < 1.0 else "pass" for phase in phases]
    assert not [p for p in phases if 0.3 < p < 0.5 or 0.8 < p < 1.0], phases  # late stays put
    assert expected.count("fail") >= 2
    assert expected.count("pass") >= 2
    assert verdicts(read_journal(chaos.home / "b" / "journal.json")) == expected, caught
    print(f"\ntick phases {[round(p, 3) for p in phases]}: fixed 4/4 escaped, jitter {expected}")


def test_shrink_takes_four_faults_down_to_the_one_that_matters(chaos: Chaos) -> None:
    faults = "\n".join(
        [
            "          - {at: 0.3s, kill: {role: worker}}",
            "          - {at: 1.25s, kill: {role: worker}}",
            "          - {at: 2.7s, kill: {role: backend}}",  # 0.7 into a tick: dropped
            "          - {at: 3.3s, kill: {role: worker}}",
        ]
    )
    path = chaos.scenario("four.yaml", tick_scenario("tick-four", faults, duration="5s", workers=1))
    failed = chaos.run("run", path, "--seed", "11", "--out", "run")
    assert failed.returncode == 1, failed
    journal = chaos.home / "run" / "journal.json"

    shrunk = chaos.run(
        "shrink", journal, "--trial", "tick-four#0", "--budget", "24", "--out", "small.yaml",
        deadline=600,
    )  # fmt: skip

    assert shrunk.returncode == 0, shrunk
    text = (chaos.home / "small.yaml").read_text(encoding="utf-8")
    written = load_scenario(chaos.home / "small.yaml")
    assert [(f.kind, f.spec.role) for f in written.faults] == [("kill", "backend")]  # type: ignore[attr-defined]
    for removed in ("#0 kill at 0.300s", "#1 kill at 1.250s", "#3 kill at 3.300s"):
        assert f"removed {removed}" in text
    assert "1 of 4 fault step(s) still fail" in shrunk.stdout
    at = written.faults[0].at or 0.0
    assert 0.5 < at % TICK < 1.0, "wherever it moved, the kill is still in a tick's second half"
    reruns = int(shrunk.stdout.split("after ")[-1].split(" rerun")[0])
    print(f"\nshrink: 4 faults -> 1 (kill backend at {at:.3f}s) in {reruns} reruns")

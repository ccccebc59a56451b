"""``chaos compare`` on real runs of the testbed: a slow restart is a regression, a rerun
of the same fixed version is not."""

from __future__ import annotations

import pytest
from e2e_support import ROOT, Chaos, read_journal

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SCENARIO = ROOT / "scenarios" / "backend-sigkill.yaml"


def run_five(chaos: Chaos, out: str, *extra: str) -> str:
    result = chaos.run("run", SCENARIO, "--repeat", "5", "--jobs", "2", "--out", out, *extra)
    assert result.returncode in (0, 1), result
    journal = read_journal(chaos.home / out / "journal.json")
    recoveries = [r for t in journal["scenarios"][0]["trials"] for r in t["metrics"]["recovery_s"]]
    assert len(recoveries) >= 5, f"{out}: every trial measured its recoveries"
    return str(chaos.home / out / "journal.json")


def test_compare_flags_a_slow_restart_and_not_a_rerun(chaos: Chaos) -> None:
    fixed1 = run_five(chaos, "fixed1")
    fixed2 = run_five(chaos, "fixed2")
    slow = run_five(chaos, "slow", "--var", "bugs=slow-restart")

    regressed = chaos.run("compare", fixed1, slow, "--md", "regressed.md")
    # Two runs of one version, with the default threshold and minimum delta: millisecond
    # drift from the machine's load must not read as a regression.
    same = chaos.run("compare", fixed1, fixed2)

    assert regressed.returncode == 1, regressed
    assert "backend-sigkill" in regressed.stdout, regressed
    assert (chaos.home / "regressed.md").stat().st_size > 0
    assert same.returncode == 0, same
    assert "Traceback" not in regressed.stderr + same.stderr

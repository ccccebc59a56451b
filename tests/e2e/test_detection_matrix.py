"""The proof behind the scenario suite: every testbed bug is caught, the fixed testbed passes.

Runs the whole of ``scenarios/`` against the fixed testbed and against every bug profile
the testbed lists, then asserts the detection matrix: the fixed column passes everywhere,
and every bug is caught by a *failed invariant* (not merely by a system that never became
ready) in the scenario written for it. The matrix is printed and written to
``reports/detection-matrix.md``; the README's copy is generated from that file with
``python docs/update_readme.py matrix reports/detection-matrix.md``.

One test computes the whole matrix (about six minutes on two cores), so no parallel worker
ever runs it twice.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.run.catalog import load_all
from harness.run.matrix import Matrix, run_matrix, to_markdown
from harness.run.runner import RunOptions
from harness.spec.verdict import Verdict
from harness.testbed.bugs import BUGS

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

# The scenario written for each bug (its header says "Catches: <bug>"). Other scenarios may
# catch a bug too; this one must.
DESIGNED_FOR = {
    "no-restart": "backend-sigkill",
    "client-no-retry": "backend-sigkill",
    "slow-restart": "backend-sigkill",
    "fixed-port": "instances-second-copy",
    "shared-data": "instances-concurrent",
    "crash-on-unknown-id": "daemon-bad-requests",
    "exit-listener-removed": "module-sigkill",
    "stale-registration": "module-sigkill",
    "no-prune": "worker-sigkill-jobs",
    "unbounded-requeue": "poison-job",
    "no-graceful-shutdown": "worker-sigterm-graceful",
    "orphans": "supervisor-sigkill",
    "no-heartbeat-check": "worker-freeze-prune",
    "no-backend-timeout": "backend-slow",
    "drop-on-write-error": "worker-disk-full",
    "oom-clean-exit": "worker-oom",
}


def test_every_bug_profile_has_a_designated_scenario() -> None:
    assert set(DESIGNED_FOR) == set(BUGS), "a new bug profile needs a scenario that catches it"


def problems_of(matrix: Matrix) -> list[str]:
    """Everything wrong with a matrix, in words; empty when the suite is proven."""
    problems = [
        f"the fixed testbed failed {name}: {', '.join(cell.failed) or cell.verdict}"
        for name, cell in matrix.column("").items()
        if cell.verdict not in (Verdict.PASS, Verdict.SKIP)
    ]
    for bug, scenario in DESIGNED_FOR.items():
        cell = matrix.cells.get((scenario, bug))
        if cell is None or not cell.caught:
            others = ", ".join(matrix.caught_by(bug)) or "nothing"
            state = "missing" if cell is None else f"{cell.verdict}, not ready: {cell.not_ready}"
            problems.append(f"{bug}: {scenario} did not catch it ({state}); caught by {others}")
    return problems


@pytest.mark.timeout(1800)  # ~6 min on two cores beside the rest of the suite; 30 at worst
def test_every_bug_is_caught_and_the_fixed_testbed_passes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    scenarios = [s for s in load_all([ROOT / "scenarios"]) if "bugs" in s.vars]
    matrix = run_matrix(scenarios, "bugs", ["", *BUGS], RunOptions(seed=1, jobs=2))
    out = ROOT / "reports" / "detection-matrix.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(to_markdown(matrix), encoding="utf-8")
    with capsys.disabled():
        print("\ndetection matrix: what failed with each bug switched on")
        print(to_markdown(matrix))

    assert problems_of(matrix) == []

"""The proof behind the scenario suite: every testbed bug is caught, the fixed testbed passes.

Runs the whole of ``scenarios/`` against the fixed testbed and against every bug profile
the testbed lists, then asserts the detection matrix: the fixed column passes everywhere,
and every bug is caught by a *failed invariant* (not merely by a system that never became
ready) in the scenario written for it. The matrix is printed and written to
``reports/detection-matrix.md`` (the README's copy is generated from that file).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.matrix import Matrix, run_matrix, to_grid, to_markdown
from harness.results import Verdict
from harness.runner import RunOptions
from harness.scenario.loader import load_all
from harness.testbed.bugs import BUGS

ROOT = Path(__file__).resolve().parents[2]

# One xdist worker computes the matrix once for every test of this module.
pytestmark = [pytest.mark.xdist_group("detection-matrix"), pytest.mark.slow, pytest.mark.e2e]

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
}


@pytest.fixture(scope="module")
def matrix() -> Matrix:
    scenarios = [s for s in load_all([ROOT / "scenarios"]) if "bugs" in s.vars]
    result = run_matrix(scenarios, "bugs", ["", *BUGS], RunOptions(seed=1, jobs=2))
    out = ROOT / "reports" / "detection-matrix.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(to_markdown(result), encoding="utf-8")
    return result


def test_every_bug_profile_has_a_designated_scenario() -> None:
    assert set(DESIGNED_FOR) == set(BUGS), "a new bug profile needs a scenario that catches it"


def test_the_fixed_testbed_passes_every_scenario(
    matrix: Matrix, capsys: pytest.CaptureFixture[str]
) -> None:
    with capsys.disabled():
        print("\ndetection matrix (X: caught by an invariant, .: passed, !: other failure)")
        print(to_grid(matrix))
    failed = {
        name: cell.failed or cell.verdict
        for name, cell in matrix.column("").items()
        if cell.verdict not in (Verdict.PASS, Verdict.SKIP)
    }
    assert not failed, f"the fixed testbed failed: {failed}"


@pytest.mark.parametrize("bug", sorted(BUGS))
def test_each_bug_is_caught_by_an_invariant_of_its_scenario(matrix: Matrix, bug: str) -> None:
    cell = matrix.cells[(DESIGNED_FOR[bug], bug)]
    assert cell.caught, (
        f"{bug}: scenario {DESIGNED_FOR[bug]} did not catch it through an invariant "
        f"(verdict {cell.verdict}, not ready: {cell.not_ready}); caught by: "
        f"{matrix.caught_by(bug) or 'nothing'}"
    )

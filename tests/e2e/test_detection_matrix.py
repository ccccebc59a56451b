"""The proof behind the scenario suite: every testbed bug is caught, the fixed testbed passes.

Runs the whole of ``scenarios/`` against the fixed testbed, and against every bug profile
the testbed lists the scenario written for it, then asserts: the fixed column passes
everywhere, and every bug is caught by a *failed invariant* (not merely by a system that
never became ready) in the scenario written for it. With ``CHAOS_MATRIX=full`` every
scenario runs against every profile (which other scenarios catch a bug too) and the matrix
is written to ``reports/detection-matrix.md``; the README's copy is generated from that
file with ``python docs/update_readme.py matrix reports/detection-matrix.md``.

One test computes the matrix, so no parallel worker ever runs it twice. A trial
mostly waits (for its duration, a restart, a teardown grace: the whole matrix uses about a
third of one core), so the columns run side by side, ``COLUMNS_AT_ONCE`` at a time, each
with ``JOBS`` trials in parallel, like ``COLUMNS_AT_ONCE`` ``chaos run --jobs JOBS`` at
once; every scenario keeps its own duration and bounds. Three trials at once keep every
slot busy (one column's slowest trial no longer holds the next column back); more at once
made the timing tests on the other xdist worker (compare's "a rerun is no regression")
noisy on a loaded two-core machine.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from harness.run.catalog import load_all
from harness.run.matrix import Matrix, run_matrix, to_markdown
from harness.run.runner import RunOptions
from harness.spec.verdict import Verdict
from harness.testbed.bugs import BUGS

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

COLUMNS_AT_ONCE = 3
JOBS = 1

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
    "tick-drop": "backend-kill-tick",
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


FULL = os.environ.get("CHAOS_MATRIX", "") == "full"
"""``CHAOS_MATRIX=full``: every scenario in every column, for the README's table (about 9
minutes on two cores). By default each bug's column runs only the scenario written for it
and the fixed column runs them all: exactly the cells the test asserts (about 1.5 minutes)."""


def run_columns(values: list[str]) -> Matrix:
    """``run_matrix`` over ``values``, ``COLUMNS_AT_ONCE`` columns at a time, merged in
    the order of ``values``; without ``FULL``, a bug's column holds only its scenario."""
    scenarios = [s for s in load_all([ROOT / "scenarios"]) if "bugs" in s.vars]
    options = RunOptions(seed=1, jobs=JOBS)

    def column(value: str) -> Matrix:
        chosen = [s for s in scenarios if FULL or not value or s.name == DESIGNED_FOR[value]]
        return run_matrix(chosen, "bugs", [value], options)

    with ThreadPoolExecutor(max_workers=COLUMNS_AT_ONCE) as pool:
        columns = list(pool.map(column, values))
    matrix = Matrix(var="bugs", values=values, scenarios=[s.name for s in scenarios])
    for column in columns:
        matrix.cells.update(column.cells)
        matrix.runs.update(column.runs)
    return matrix


@pytest.mark.timeout(1800)  # ~1.5 min (~9 full) on two cores beside the suite; 30 at worst
def test_every_bug_is_caught_and_the_fixed_testbed_passes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    matrix = run_columns(["", *BUGS])
    # Only a full matrix is the README's table (docs/update_readme.py reads that file).
    out = ROOT / "reports" / ("detection-matrix.md" if FULL else "detection-proof.md")
    out.parent.mkdir(exist_ok=True)
    out.write_text(to_markdown(matrix), encoding="utf-8")
    with capsys.disabled():
        print("\ndetection matrix: what failed with each bug switched on")
        print(to_markdown(matrix))

    assert problems_of(matrix) == []

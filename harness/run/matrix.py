"""The detection matrix: the same scenarios run once per value of one var, side by side.

Its first use is the proof that every scenario catches the bug it is named for: run the
suite against the fixed system (``bugs=""``) and against each bug profile, and every bug
column must hold a failed invariant while the fixed column passes. It works for any var
(``version=1.2,1.3``), so a user can prove their own fault switches the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from harness.results.model import RunResult, ScenarioResult
from harness.run.runner import Run, RunObserver, RunOptions
from harness.scenario.loader import with_overrides
from harness.scenario.model import Scenario
from harness.spec.verdict import Verdict


@dataclass(frozen=True)
class Cell:
    """One scenario run with one value: its verdict and what failed."""

    verdict: Verdict
    failed: tuple[str, ...] = ()
    """Kinds of the invariants that failed (in any trial)."""
    not_ready: bool = False
    """A trial failed because the system never became ready (not an invariant)."""

    @property
    def caught(self) -> bool:
        """Failed through an invariant, not merely by never becoming ready."""
        return bool(self.failed)


@dataclass
class Matrix:
    """Scenario-by-value cells of one var."""

    var: str
    values: list[str]
    scenarios: list[str]
    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)
    runs: dict[str, RunResult] = field(default_factory=dict)

    def column(self, value: str) -> dict[str, Cell]:
        return {s: self.cells[(s, value)] for s in self.scenarios if (s, value) in self.cells}

    def caught_by(self, value: str) -> list[str]:
        """Scenarios that caught ``value`` through a failed invariant."""
        return [s for s, cell in self.column(value).items() if cell.caught]


def cell_of(result: ScenarioResult) -> Cell:
    """Summarise every trial of one scenario into one cell."""
    failed: list[str] = []
    not_ready = False
    for trial in result.trials:
        for inv in trial.invariants:
            if inv.verdict is not Verdict.PASS and inv.kind not in failed:
                failed.append(inv.kind)
        if trial.verdict is Verdict.FAIL and not trial.invariants:
            not_ready = True
    return Cell(verdict=result.verdict, failed=tuple(failed), not_ready=not_ready)


def run_matrix(
    scenarios: Sequence[Scenario],
    var: str,
    values: Sequence[str],
    options: RunOptions,
    observer: RunObserver | None = None,
) -> Matrix:
    """Run every scenario once per value of ``var`` (each run is a full ``chaos run``)."""
    matrix = Matrix(var=var, values=list(values), scenarios=[s.name for s in scenarios])
    for value in values:
        variant = [with_overrides(s, variables={var: value}) for s in scenarios]
        result = Run(variant, options, observer).execute()
        matrix.runs[value] = result
        for sresult in result.scenarios:
            matrix.cells[(sresult.name, value)] = cell_of(sresult)
    return matrix


def _label(value: str) -> str:
    return value if value else "(none)"


def _cell_text(cell: Cell) -> str:
    if cell.verdict is Verdict.PASS:
        return "·"
    if cell.verdict is Verdict.SKIP:
        return "skip"
    if cell.caught:
        return "✗ " + ", ".join(cell.failed)
    if cell.not_ready:
        return "not ready"
    return str(cell.verdict)


def to_markdown(matrix: Matrix) -> str:
    """A Markdown table: one row per value of the var, one column per scenario would be too
    wide, so rows are values and each cell lists the invariants that caught it."""
    lines = [
        f"| {matrix.var} | caught by (scenario: failed invariants) |",
        "|---|---|",
    ]
    for value in matrix.values:
        column = matrix.column(value)
        caught = [
            f"`{s}`: {_cell_text(c)}" for s, c in column.items() if c.verdict is not Verdict.PASS
        ]
        text = "<br>".join(caught) if caught else "nothing failed"
        lines.append(f"| `{_label(value)}` | {text} |")
    return "\n".join(lines) + "\n"

"""``compare`` flags a slower restart and does not flag two runs of one version."""

from __future__ import annotations

import random

from rich.console import Console

from harness.report.compare import Change, compare, compare_to_markdown, render_compare

from .fixtures import recovery_run


def _noisy(center: float, n: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [center * (1 + rng.uniform(-0.15, 0.15)) for _ in range(n)]


def test_slow_restart_is_a_regression() -> None:
    # the testbed's slow-restart bug adds a second to every restart
    base = recovery_run({"backend-sigkill": _noisy(0.5, 5, 1)})
    head = recovery_run({"backend-sigkill": [v + 1.0 for v in _noisy(0.5, 5, 2)]})
    cmp = compare(base, head)
    [row] = cmp.scenarios
    assert row.change is Change.REGRESSED
    assert row.p_value is not None
    assert row.p_value < 0.05
    assert row.delta is not None
    assert row.delta > 1.0
    assert cmp.regressed


def test_the_fix_is_an_improvement_not_a_regression() -> None:
    slow = recovery_run({"backend-sigkill": [v + 1.0 for v in _noisy(0.5, 5, 3)]})
    fixed = recovery_run({"backend-sigkill": _noisy(0.5, 5, 4)})
    cmp = compare(slow, fixed)
    assert cmp.scenarios[0].change is Change.IMPROVED
    assert not cmp.regressed


def test_two_runs_of_one_version_are_not_flagged() -> None:
    changes = []
    for seed in range(20):
        base = recovery_run({"backend-sigkill": _noisy(0.5, 5, seed)})
        head = recovery_run({"backend-sigkill": _noisy(0.5, 5, seed + 100)})
        cmp = compare(base, head)
        assert not cmp.regressed, cmp.scenarios[0]
        changes.append(cmp.scenarios[0].change)
    assert changes.count(Change.UNCHANGED) >= 18


def test_a_large_but_insignificant_change_is_not_a_regression() -> None:
    base = recovery_run({"s": [0.5, 1.5, 0.4, 2.0]})
    head = recovery_run({"s": [0.6, 1.9, 0.45, 2.2]})
    row = compare(base, head).scenarios[0]
    assert row.change is Change.UNCHANGED
    assert row.p_value is not None
    assert row.p_value >= 0.05


def test_a_significant_change_within_the_threshold_is_unchanged() -> None:
    base = recovery_run({"s": [0.500, 0.501, 0.502, 0.503, 0.504]})
    head = recovery_run({"s": [0.520, 0.521, 0.522, 0.523, 0.524]})
    row = compare(base, head, threshold=0.10).scenarios[0]
    assert row.p_value is not None
    assert row.p_value < 0.05
    assert row.change is Change.UNCHANGED


def test_missing_or_too_few_values_are_not_comparable() -> None:
    base = recovery_run({"both": [0.5, 0.6], "only-base": [0.5, 0.5, 0.5]})
    head = recovery_run({"both": [1.5, 1.6], "only-head": [0.5, 0.5, 0.5]})
    changes = {s.name: s.change for s in compare(base, head).scenarios}
    assert changes == {
        "both": Change.NOT_COMPARABLE,
        "only-base": Change.NOT_COMPARABLE,
        "only-head": Change.NOT_COMPARABLE,
    }
    assert not compare(base, head).regressed


def test_lower_availability_is_the_regression() -> None:
    base = recovery_run({"s": [0.5] * 5})
    head = recovery_run({"s": [0.5] * 5})
    for i, trial in enumerate(base.scenarios[0].trials):
        trial.metrics["availability"] = 0.99 - i * 0.001
    for i, trial in enumerate(head.scenarios[0].trials):
        trial.metrics["availability"] = 0.70 - i * 0.001
    assert compare(base, head, metric="availability").scenarios[0].change is Change.REGRESSED


def test_rendered_table_and_markdown_show_the_verdict() -> None:
    base = recovery_run({"backend-sigkill": _noisy(0.5, 5, 1)})
    head = recovery_run({"backend-sigkill": [v + 1.0 for v in _noisy(0.5, 5, 2)]})
    cmp = compare(base, head)
    console = Console(record=True, width=160, force_terminal=False)
    render_compare(cmp, console)
    text = console.export_text()
    assert "backend-sigkill" in text
    assert "regressed" in text
    md = compare_to_markdown(cmp)
    assert md.startswith("## 🔴 regression")
    assert "| backend-sigkill | 5 |" in md
    assert "regressed" in md


def test_a_significant_change_smaller_than_the_minimum_delta_is_unchanged() -> None:
    # 6 ms → 9 ms: +50% and clearly significant, yet only 3 ms: scheduling jitter.
    base = recovery_run({"backend-sigkill": [0.006 + i * 0.0001 for i in range(10)]})
    head = recovery_run({"backend-sigkill": [0.009 + i * 0.0001 for i in range(10)]})
    flagged = compare(base, head)
    assert flagged.scenarios[0].change is Change.REGRESSED
    floored = compare(base, head, min_delta=0.025)
    assert floored.scenarios[0].change is Change.UNCHANGED
    assert not floored.regressed
    assert "minimum" in floored.scenarios[0].reason

"""``compare`` flags a slower restart and not two runs of one version, on one value per
trial and per recovery phase, and says when the runs are too few to tell."""

from __future__ import annotations

import random

from rich.console import Console

from harness.report.compare import Change, compare
from harness.report.compare_view import compare_to_markdown, render_compare
from harness.report.stats import mann_whitney_u
from harness.results.model import RunResult

from .fixtures import phase_run, recovery_run


def _noisy(center: float, n: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [center * (1 + rng.uniform(-0.15, 0.15)) for _ in range(n)]


def test_slow_restart_is_a_regression() -> None:
    # the testbed's slow-restart bug adds a second to every restart
    base = recovery_run({"backend-sigkill": _noisy(0.5, 5, 1)})
    head = recovery_run({"backend-sigkill": [v + 1.0 for v in _noisy(0.5, 5, 2)]})
    cmp = compare(base, head)
    [row] = cmp.scenarios
    assert row.metric == "recovery_s"  # a journal from before recovery phases
    assert row.change is Change.REGRESSED
    assert row.p_value is not None
    assert row.p_value < 0.05
    assert row.delta is not None
    assert row.delta > 1.0
    assert row.shift is not None
    assert row.shift.low is not None
    assert 0.8 < row.shift.low < row.shift.estimate < 1.2
    assert "95% CI" not in row.reason  # the exact interval states its own coverage
    assert "97% CI +" in row.reason
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
    assert changes.count(Change.REGRESSED) == 0


def test_kills_of_one_trial_are_one_unit_not_independent_samples() -> None:
    # Two kills per trial land at the same phase of a 0.5 s poll loop: pairs like
    # [170, 196] ms. Counted as 10 samples a side the noise looks significant; it is not.
    base_units = [0.10, 0.20, 0.28, 0.31, 0.36]
    head_units = [0.27, 0.33, 0.38, 0.44, 0.47]
    base = phase_run({"s": [{"spawned": [u, u + 0.005]} for u in base_units]})
    head = phase_run({"s": [{"spawned": [u, u + 0.005]} for u in head_units]})
    flattened = mann_whitney_u(
        [v for u in head_units for v in (u, u + 0.005)],
        [v for u in base_units for v in (u, u + 0.005)],
    )
    assert flattened.p_value < 0.01  # what the old compare saw: "regressed, p=0.009"
    [row] = compare(base, head).scenarios
    assert row.base.n == 5
    assert row.base.faults == 10
    assert row.change is not Change.REGRESSED
    assert row.p_value is not None
    assert row.p_value >= 0.05


def test_every_recovery_phase_is_compared_and_only_the_slower_one_flagged() -> None:
    rng = random.Random(7)

    def trial(extra_ready: float) -> dict[str, list[float]]:
        spawned = rng.uniform(0.004, 0.008)
        return {
            "spawned": [spawned, spawned],
            "ready": [spawned + 0.03 + extra_ready] * 2,
        }

    base = phase_run({"s": [trial(0.0) for _ in range(6)]})
    head = phase_run({"s": [trial(0.5) for _ in range(6)]})
    cmp = compare(base, head, min_delta=0.025)
    changes = {row.metric: row.change for row in cmp.scenarios}
    assert changes == {
        "recovery_spawned_s": Change.UNCHANGED,
        "recovery_ready_s": Change.REGRESSED,
    }
    ready = next(r for r in cmp.scenarios if r.metric == "recovery_ready_s")
    assert ready.raw_p is not None
    assert ready.p_value is not None
    assert ready.p_value >= ready.raw_p  # Holm over the two phases
    assert [r.metric for r in compare(base, head, metric="recovery_ready_s").scenarios] == [
        "recovery_ready_s"
    ]


def test_too_few_trials_say_so_and_how_many_would_tell() -> None:
    base = phase_run({"s": [{"spawned": [0.1], "ready": [0.2]} for _ in range(4)]})
    head = phase_run({"s": [{"spawned": [1.1], "ready": [1.2]} for _ in range(4)]})
    rows = compare(base, head).scenarios
    assert {r.change for r in rows} == {Change.TOO_FEW}
    assert rows[0].needed == 5
    assert "the smallest p possible is 0.0286 over 2 metrics (Holm)" in rows[0].reason
    assert "at least 5 trials per side needed" in rows[0].reason
    assert not compare(base, head).regressed


def test_an_apparent_change_the_data_cannot_confirm_says_how_many_trials_would() -> None:
    base = recovery_run({"s": [0.5, 1.5, 0.4, 2.0, 0.9]})
    head = recovery_run({"s": [0.6, 1.9, 0.45, 2.2, 1.3]})
    row = compare(base, head).scenarios[0]
    assert row.change is Change.TOO_FEW
    assert row.p_value is not None
    assert row.p_value >= 0.05
    assert row.needed is not None
    assert row.needed > 5
    assert f"about {row.needed} trials per side would tell" in row.reason


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
        "both": Change.TOO_FEW,
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


def test_rendered_table_and_markdown_show_the_verdict_and_the_interval() -> None:
    base = phase_run({"backend-sigkill": [{"ready": [v]} for v in _noisy(0.5, 5, 1)]})
    head = phase_run({"backend-sigkill": [{"ready": [v + 1.0]} for v in _noisy(0.5, 5, 2)]})
    cmp = compare(base, head)
    console = Console(record=True, width=200, force_terminal=False)
    render_compare(cmp, console)
    text = console.export_text()
    assert "backend-sigkill" in text
    assert "ready" in text
    assert "regressed" in text
    md = compare_to_markdown(cmp)
    assert md.startswith("## 🔴 regression")
    assert "| backend-sigkill | ready | 5 |" in md
    assert " ms [+" in md
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


def _poll_loop_run(rng: random.Random, extra: float, trials: int = 5) -> RunResult:
    """Trials of a supervisor that reaps on a 0.5 s loop: each trial draws the loop's phase
    once, and both of its kills recover at that phase (plus a few ms of fork and start)."""
    out = []
    for _ in range(trials):
        phase = rng.uniform(0.0, 0.5)
        values: dict[str, list[float]] = {"spawned": [], "listening": [], "ready": []}
        for _kill in range(2):
            spawned = phase + rng.uniform(0.002, 0.01) + extra
            values["spawned"].append(spawned)
            values["listening"].append(spawned + rng.uniform(0.0, 0.25))
            values["ready"].append(spawned + rng.uniform(0.03, 0.05))
        out.append(values)
    return phase_run({"poll-loop": out})


def test_on_a_poll_loop_an_unchanged_version_is_rarely_flagged_and_a_slow_one_always() -> None:
    rng = random.Random(2024)
    false_alarms = sum(
        compare(_poll_loop_run(rng, 0.0), _poll_loop_run(rng, 0.0), min_delta=0.025).regressed
        for _ in range(1000)
    )
    caught = sum(
        compare(_poll_loop_run(rng, 0.0), _poll_loop_run(rng, 1.0), min_delta=0.025).regressed
        for _ in range(100)
    )
    assert false_alarms <= 20  # at most 2 % (alpha is 5 %; measured about 0.6 %)
    assert caught == 100


def test_a_journal_from_before_phases_is_not_compared_with_phases_silently() -> None:
    old = recovery_run({"s": [0.01] * 5})
    new = phase_run({"s": [{"spawned": [0.01], "ready": [0.04]}] * 5})
    rows = compare(old, new).scenarios
    assert {r.change for r in rows} == {Change.NOT_COMPARABLE}
    assert "written before recovery phases" in rows[0].reason
    assert "re-run that version" in rows[0].reason

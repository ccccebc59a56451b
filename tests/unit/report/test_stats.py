"""Percentiles and the Mann-Whitney U test against textbook values and brute force."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from harness.report.stats import (
    hodges_lehmann,
    holm,
    mann_whitney_u,
    median,
    percentile,
    smallest_p,
    superiority,
    trials_needed,
    trials_to_tell,
)


def test_percentile_interpolates_like_numpy() -> None:
    values = [1.0, 2.0, 3.0, 4.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert median(values) == 2.5
    assert percentile(values, 95) == pytest.approx(3.85)
    assert median([5.0]) == 5.0


def test_percentile_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)


def test_scipy_documented_example_exact() -> None:
    # scipy.stats.mannwhitneyu docs: males vs females, U=17, p=0.1111 (exact)
    result = mann_whitney_u([19, 22, 16, 29, 24], [20, 11, 17, 12])
    assert result.method == "exact"
    assert result.u == 17
    assert result.p_value == pytest.approx(1 / 9)


def test_complete_separation_of_five_against_five() -> None:
    # only 2 of C(10,5) = 252 arrangements are as extreme: p = 2/252
    result = mann_whitney_u([1.5, 1.6, 1.7, 1.8, 1.9], [0.5, 0.52, 0.49, 0.51, 0.48])
    assert result.u == 25
    assert result.p_value == pytest.approx(2 / 252)


def _brute_force_p(first: list[float], second: list[float]) -> float:
    pooled = first + second
    ranks = {v: i + 1 for i, v in enumerate(sorted(pooled))}
    m = len(first)
    observed = sum(ranks[v] for v in first) - m * (m + 1) / 2
    mean = m * len(second) / 2
    extreme = total = 0
    for combo in itertools.combinations(pooled, m):
        u = sum(ranks[v] for v in combo) - m * (m + 1) / 2
        total += 1
        extreme += abs(u - mean) >= abs(observed - mean) - 1e-9
    return extreme / total


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ([0.31, 0.45, 0.52, 0.61], [0.33, 0.71, 0.8, 0.9, 1.1]),
        ([1.0, 2.0, 3.0], [4.0, 5.0, 6.0]),
        ([0.5, 0.9, 0.2, 0.7, 0.4, 0.3], [0.6, 0.1, 0.8, 0.35, 0.45]),
    ],
)
def test_exact_p_matches_a_permutation_count(first: list[float], second: list[float]) -> None:
    assert mann_whitney_u(first, second).p_value == pytest.approx(_brute_force_p(first, second))


def test_ties_use_the_normal_approximation_with_tie_correction() -> None:
    first, second = [1.0, 2.0, 2.0, 3.0, 3.0], [3.0, 4.0, 4.0, 5.0, 6.0]
    result = mann_whitney_u(first, second)
    assert result.method == "asymptotic"
    # by hand: mid-ranks give U=16-15=1; tie groups (2,3,2) -> variance 25/12*(11 - 36/90)
    sigma = math.sqrt(25 / 12 * (11 - 36 / 90))
    z = (abs(1 - 12.5) - 0.5) / sigma
    assert result.u == 1
    assert result.p_value == pytest.approx(math.erfc(z / math.sqrt(2)))


def test_identical_samples_are_not_different() -> None:
    assert mann_whitney_u([1.0] * 4, [1.0] * 4).p_value == 1.0


def test_an_empty_sample_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one value"):
        mann_whitney_u([], [1.0])


# --------------------------------------------------------------------------- the shift


def test_hodges_lehmann_is_the_median_of_all_pairwise_differences() -> None:
    head, base = [1.2, 1.5, 1.1, 1.9], [0.4, 0.5, 0.45]
    diffs = [h - b for h in head for b in base]
    shift = hodges_lehmann(head, base)
    assert shift.estimate == pytest.approx(median(diffs))
    assert shift.method == "exact"


def test_the_five_against_five_interval_drops_three_differences_each_side() -> None:
    # P(U <= 2) = 4/252 <= 0.025 < P(U <= 3) = 7/252: the 3rd smallest to the 3rd largest
    head, base = [10.0, 11.0, 12.0, 13.0, 14.0], [0.0, 0.1, 0.2, 0.3, 0.4]
    diffs = sorted(h - b for h in head for b in base)
    shift = hodges_lehmann(head, base)
    assert (shift.low, shift.high) == (pytest.approx(diffs[2]), pytest.approx(diffs[22]))
    assert shift.confidence == pytest.approx(1 - 8 / 252)


def test_too_few_values_give_no_interval_rather_than_a_false_one() -> None:
    # three against three: even complete separation has P = 2/20 > 5%
    shift = hodges_lehmann([2.0, 3.0, 4.0], [0.0, 0.5, 1.0])
    assert shift.low is None
    assert shift.high is None
    assert shift.estimate == pytest.approx(2.5)


@pytest.mark.parametrize("seed", range(3))
def test_the_interval_inverts_the_test_a_shift_it_excludes_is_rejected(seed: int) -> None:
    rng = random.Random(seed)
    base = [rng.uniform(0, 1) for _ in range(6)]
    head = [rng.uniform(0.3, 1.3) for _ in range(6)]
    shift = hodges_lehmann(head, base)
    assert shift.low is not None
    assert shift.high is not None
    # moving head by a shift inside the interval leaves it consistent with base...
    inside = (shift.low + shift.high) / 2
    assert mann_whitney_u([h - inside for h in head], base).p_value >= 0.05
    # ...and by one well outside it, not
    outside = shift.high + (shift.high - shift.low) + 1.0
    assert mann_whitney_u([h - outside for h in head], base).p_value < 0.05


def test_the_interval_for_large_samples_is_asymptotic_and_covers_the_true_shift() -> None:
    base = [i / 40 for i in range(40)]
    head = [v + 0.5 for v in base]
    shift = hodges_lehmann(head, base)
    assert shift.method == "asymptotic"
    assert shift.estimate == pytest.approx(0.5)
    assert shift.low is not None
    assert shift.high is not None
    assert shift.low < 0.5 < shift.high


# --------------------------------------------------------------------------- how many runs


def test_the_smallest_possible_p_and_the_trials_a_test_needs() -> None:
    assert smallest_p(3, 3) == pytest.approx(0.1)
    assert smallest_p(5, 5) == pytest.approx(2 / 252)
    assert trials_to_tell(0.05) == 4  # 2/70 < 0.05 <= 2/20
    assert trials_to_tell(0.05, tests=4) == 5  # 4 * 2/70 >= 0.05 > 4 * 2/252


def test_trials_needed_grows_as_the_effect_shrinks() -> None:
    assert trials_needed(0.5, 0.05) is None
    big, small = trials_needed(1.0, 0.05), trials_needed(0.7, 0.05)
    assert big is not None
    assert small is not None
    assert big < small
    # Noether: (1.96 + 0.84)^2 / (6 * 0.2^2) = 32.7 per side
    assert small == 33
    assert superiority([2.0, 3.0], [1.0, 2.0]) == pytest.approx((1 + 0.5 + 1 + 1) / 4)


def test_holm_adjusts_in_order_and_keeps_monotone() -> None:
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5]) == [0.5]
    assert holm([]) == []

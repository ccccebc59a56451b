"""Percentiles and the Mann-Whitney U test against textbook values and brute force."""

from __future__ import annotations

import itertools
import math

import pytest

from harness.report.stats import mann_whitney_u, median, percentile


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

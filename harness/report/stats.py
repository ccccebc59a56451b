"""Small-sample statistics in the standard library: percentiles and Mann-Whitney U.

Recovery times come in handfuls (``--repeat 5``), are skewed and not normal, so ``compare``
uses a rank test. scipy is not a dependency; this module is cross-checked against textbook
values and a brute-force permutation count in the tests.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

EXACT_MAX_N = 30
"""Use the exact null distribution when both samples are at most this big and untied."""


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100), linear interpolation between ranks (numpy's default).

    Raises ``ValueError`` for an empty sequence: a caller must decide what "no data" shows.
    """
    if not values:
        raise ValueError("percentile of no values")
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile {q} outside 0..100")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    fraction = position - low
    return ordered[low] + (ordered[high] - ordered[low]) * fraction


def median(values: Sequence[float]) -> float:
    """The 50th percentile."""
    return percentile(values, 50.0)


@dataclass(frozen=True)
class UTest:
    """A two-sided Mann-Whitney U test: ``u`` is the statistic of the first sample."""

    u: float
    p_value: float
    method: str  # "exact" or "asymptotic"


def _ranks(values: Sequence[float]) -> tuple[list[float], list[int]]:
    """Mid-ranks (1-based) of ``values`` and the sizes of every group of ties."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    ties: list[int] = []
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        mid = (i + j) / 2.0 + 1.0
        for k in range(i, j + 1):
            ranks[order[k]] = mid
        ties.append(j - i + 1)
        i = j + 1
    return ranks, ties


@cache
def _u_counts(m: int, n: int) -> tuple[int, ...]:
    """How many of the C(m+n, m) arrangements give each U = 0..m*n (no ties)."""
    if m == 0 or n == 0:
        return (1,)
    # U(m, n) = U(m-1, n) + n  (largest value in sample 1)  or  U(m, n-1)  (in sample 2)
    with_first = _u_counts(m - 1, n)
    with_second = _u_counts(m, n - 1)
    counts = [0] * (m * n + 1)
    for u, c in enumerate(with_first):
        counts[u + n] += c
    for u, c in enumerate(with_second):
        counts[u] += c
    return tuple(counts)


def _exact_p(u: float, m: int, n: int) -> float:
    counts = _u_counts(m, n)
    total = sum(counts)
    k = round(u)
    below = sum(counts[: k + 1]) / total
    above = sum(counts[k:]) / total
    return min(1.0, 2.0 * min(below, above))


def _normal_sf(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def _asymptotic_p(u: float, m: int, n: int, ties: list[int]) -> float:
    total = m + n
    mean = m * n / 2.0
    tie_term = sum(t**3 - t for t in ties) / (total * (total - 1)) if total > 1 else 0.0
    variance = m * n / 12.0 * ((total + 1) - tie_term)
    if variance <= 0:
        return 1.0  # every value equal: no evidence of any difference
    # continuity correction towards the mean, as scipy does
    z = (abs(u - mean) - 0.5) / math.sqrt(variance)
    return min(1.0, 2.0 * _normal_sf(max(z, 0.0)))


def mann_whitney_u(first: Sequence[float], second: Sequence[float]) -> UTest:
    """Two-sided Mann-Whitney U test of ``first`` against ``second``.

    Exact null distribution for small samples without ties; otherwise the normal
    approximation with tie and continuity corrections (scipy's ``method="auto"`` spirit).
    """
    m, n = len(first), len(second)
    if m == 0 or n == 0:
        raise ValueError("Mann-Whitney U needs at least one value in each sample")
    ranks, ties = _ranks([*first, *second])
    u = sum(ranks[:m]) - m * (m + 1) / 2.0
    if all(t == 1 for t in ties) and max(m, n) <= EXACT_MAX_N:
        return UTest(u=u, p_value=_exact_p(u, m, n), method="exact")
    return UTest(u=u, p_value=_asymptotic_p(u, m, n, ties), method="asymptotic")

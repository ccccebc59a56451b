"""Small-sample statistics in the standard library: percentiles, Mann-Whitney U, the
Hodges-Lehmann shift with its exact interval, Holm's correction, and sample sizes.

Recovery times come in handfuls (``--repeat 5``), are skewed and not normal, so ``compare``
uses a rank test and reports the shift it implies with a distribution-free interval
(docs/statistics.md). scipy is not a dependency; this module is cross-checked against
textbook values and brute-force permutation counts in the tests.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from statistics import NormalDist

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


# --------------------------------------------------------------------------- shift and interval


def smallest_p(m: int, n: int) -> float:
    """The smallest two-sided p-value a rank test of ``m`` against ``n`` values can give
    (complete separation): below ``alpha`` or the runs can never tell anything."""
    if m == 0 or n == 0:
        return 1.0
    return min(1.0, 2.0 / math.comb(m + n, m))


def trials_to_tell(alpha: float, tests: int = 1) -> int:
    """The fewest values per side for which a rank test can reach ``alpha`` at all, when
    ``tests`` tests share it (Holm: the first needs ``p < alpha / tests``)."""
    k = 1
    while smallest_p(k, k) * tests >= alpha:
        k += 1
    return k


@dataclass(frozen=True)
class Shift:
    """Hodges-Lehmann estimate of how much ``head`` is above ``base`` (same units), with
    the distribution-free confidence interval that inverts the Mann-Whitney test."""

    estimate: float
    low: float | None
    """``None``: too few values for an interval at this confidence (it is unbounded)."""
    high: float | None
    confidence: float
    """The interval's exact coverage (at least the one asked for), e.g. 0.968 for 5 vs 5."""
    method: str  # "exact" or "asymptotic"


def _lower_count(m: int, n: int, alpha: float) -> tuple[int, float]:
    """``(k, coverage)``: the interval is the k-th smallest to the k-th largest pairwise
    difference, ``k = c + 1`` with ``c`` the largest U such that ``P(U <= c) <= alpha/2``;
    ``k == 0`` when even ``P(U = 0)`` is above ``alpha/2``."""
    if max(m, n) <= EXACT_MAX_N:
        counts = _u_counts(m, n)
        total = sum(counts)
        tail = 0
        c = -1
        for u, count in enumerate(counts):
            if (tail + count) / total > alpha / 2.0:
                break
            tail += count
            c = u
        return c + 1, 1.0 - 2.0 * tail / total
    z = NormalDist().inv_cdf(1.0 - alpha / 2.0)
    k = math.floor(m * n / 2.0 - z * math.sqrt(m * n * (m + n + 1) / 12.0))
    return max(0, k), 1.0 - alpha


def hodges_lehmann(head: Sequence[float], base: Sequence[float], confidence: float = 0.95) -> Shift:
    """The median of every ``head - base`` difference, and a ``confidence`` interval for
    the shift (exact for small samples: Bauer 1972; Hollander & Wolfe, ch. 4)."""
    m, n = len(head), len(base)
    if m == 0 or n == 0:
        raise ValueError("a shift needs at least one value in each sample")
    diffs = sorted(h - b for h in head for b in base)
    method = "exact" if max(m, n) <= EXACT_MAX_N else "asymptotic"
    k, coverage = _lower_count(m, n, 1.0 - confidence)
    if k == 0:
        return Shift(median(diffs), None, None, 1.0, method)
    return Shift(median(diffs), diffs[k - 1], diffs[len(diffs) - k], coverage, method)


def superiority(head: Sequence[float], base: Sequence[float]) -> float:
    """P(a head value > a base value), ties counted half: the U statistic over ``m * n``."""
    wins = sum(1.0 if h > b else 0.5 if h == b else 0.0 for h in head for b in base)
    return wins / (len(head) * len(base))


def trials_needed(p_superior: float, alpha: float, power: float = 0.8) -> int | None:
    """Values per side a rank test needs to detect an effect of this size (Noether 1987:
    ``n = (z_a/2 + z_b)^2 / (6 (p - 1/2)^2)`` per side); ``None`` for no effect at all."""
    effect = p_superior - 0.5
    if abs(effect) < 1e-9:
        return None
    z = NormalDist().inv_cdf(1.0 - alpha / 2.0) + NormalDist().inv_cdf(power)
    return max(2, math.ceil(z * z / (6.0 * effect * effect)))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values, in the input's order: compare each with ``alpha`` and the
    chance that any of the family is flagged by chance stays at most ``alpha``."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [1.0] * len(p_values)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted

"""``--shard K/N``: every trial in exactly one shard, balanced, whatever N and the suite."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.run.catalog import scenario_from_mapping
from harness.run.runner import trial_seed
from harness.run.shards import (
    STARTUP_S,
    Shard,
    Trial,
    Work,
    expected_seconds,
    owned,
    partition,
)
from harness.scenario.model import Scenario

# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(("text", "shard"), [("1/1", Shard(1, 1)), (" 3 / 8 ", Shard(3, 8))])
def test_a_shard_is_k_of_n(text: str, shard: Shard) -> None:
    assert Shard.parse(text) == shard
    assert str(Shard.parse(text)) == f"{shard.index}/{shard.count}"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("0/4", "K counts from 1 (1/4 to 4/4); from a 0-based index"),
        ("5/4", "K must be at most N (4)"),
        ("1/0", "N must be at least 1"),
        ("2", "expected K/N such as 2/4"),
        ("a/b", "expected K/N such as 2/4"),
        ("-1/4", "expected K/N such as 2/4"),
    ],
)
def test_a_malformed_shard_says_what_a_shard_is(text: str, says: str) -> None:
    with pytest.raises(ValueError, match="^.*" + says.replace("(", r"\(").replace(")", r"\)")):
        Shard.parse(text)


# --------------------------------------------------------------------------- the partition

names = st.text("abcdefgh-", min_size=1, max_size=6)
suites = st.dictionaries(
    names,
    st.tuples(st.integers(1, 25), st.floats(0.1, 120, allow_nan=False, allow_infinity=False)),
    min_size=1,
    max_size=12,
)


def _work(suite: dict[str, tuple[int, float]]) -> list[Work]:
    return [Work(name, trials, seconds) for name, (trials, seconds) in suite.items()]


@given(suite=suites, count=st.integers(1, 40))
def test_every_trial_runs_in_exactly_one_shard(
    suite: dict[str, tuple[int, float]], count: int
) -> None:
    work = _work(suite)
    shards = partition(work, count)

    assert len(shards) == count
    every = [trial for shard in shards for trial in shard]
    expected = {Trial(w.scenario, i) for w in work for i in range(w.trials)}
    assert len(every) == len(expected)  # no trial twice
    assert set(every) == expected  # none left out
    assert all(shard == sorted(shard) for shard in shards)


@given(suite=suites, count=st.integers(1, 40), order=st.randoms(use_true_random=False))
def test_the_partition_does_not_depend_on_the_order_scenarios_were_found_in(
    suite: dict[str, tuple[int, float]], count: int, order: random.Random
) -> None:
    work = _work(suite)
    shuffled = list(work)
    order.shuffle(shuffled)

    assert partition(shuffled, count) == partition(work, count)


@given(suite=suites, count=st.integers(1, 40))
def test_shards_are_balanced_within_one_trial(
    suite: dict[str, tuple[int, float]], count: int
) -> None:
    work = _work(suite)
    seconds = {w.scenario: w.seconds for w in work}
    loads = [sum(seconds[t.scenario] for t in shard) for shard in partition(work, count)]

    assert max(loads) - min(loads) <= max(seconds.values()) + 1e-9


def test_long_trials_are_spread_before_short_ones_fill_the_gaps() -> None:
    work = [Work("long", 2, 10.0), Work("short", 4, 5.0)]

    shards = partition(work, 2)

    assert shards == [
        [Trial("long", 0), Trial("short", 0), Trial("short", 2)],
        [Trial("long", 1), Trial("short", 1), Trial("short", 3)],
    ]


def test_more_shards_than_trials_leaves_some_empty() -> None:
    shards = partition([Work("only", 2, 1.0)], 4)

    assert shards == [[Trial("only", 0)], [Trial("only", 1)], [], []]


# --------------------------------------------------------------------------- scenarios


def _scenario(name: str, *, repeat: int, duration: str, timeout: str = "60s") -> Scenario:
    return scenario_from_mapping(
        {
            "name": name,
            "repeat": repeat,
            "duration": duration,
            "timeout": timeout,
            "requires": ["no-such-tool-anywhere"],  # skipped here: still in the partition
            "system": {"command": ["x"], "stop": {"grace": "0s"}},
        },
        {},
    )


def test_a_trial_is_expected_to_last_its_duration_and_a_start_at_most_its_timeout() -> None:
    assert expected_seconds(_scenario("a", repeat=1, duration="4s")) == 4.0 + STARTUP_S
    assert expected_seconds(_scenario("b", repeat=1, duration="29.5s", timeout="30s")) == 30.0


def test_owned_trials_of_every_shard_cover_the_plan_and_keep_their_seeds() -> None:
    scenarios = [
        _scenario("backend", repeat=5, duration="4s"),
        _scenario("quick", repeat=3, duration="500ms"),
        _scenario("worker", repeat=4, duration="2s"),
    ]
    whole = owned(scenarios, None)
    parts = [owned(scenarios, Shard(k, 3)) for k in (1, 2, 3)]

    for s in scenarios:
        together = sorted(i for part in parts for i in part[s.name])
        assert together == whole[s.name] == list(range(s.repeat))
    # The seed is a function of the trial alone: whichever shard owns trial I draws this.
    # Trial 0 of every scenario runs the base seed itself (so a failing trial's seed reruns
    # it alone); the others differ from each other and from it.
    for s in scenarios:
        seeds = [trial_seed(99, s.name, i) for i in whole[s.name]]
        assert seeds[0] == 99
        assert len(set(seeds)) == len(seeds)

"""Round trips of the unit parsers: what a scenario writes is what the harness reads."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.spec.units import (
    MAX_DURATION_S,
    Duration,
    format_duration,
    parse_duration,
    parse_fraction,
    parse_rate,
)

SCALE = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
AMOUNTS = st.integers(min_value=0, max_value=10**6)
DECIMALS = st.decimals(min_value=0, max_value=10**5, places=3, allow_nan=False)


@given(AMOUNTS, st.sampled_from(sorted(SCALE)))
def test_duration_round_trip(amount: int, unit: str) -> None:
    if amount * SCALE[unit] > MAX_DURATION_S:
        with pytest.raises(ValueError, match="at most 24h"):
            parse_duration(f"{amount}{unit}")
    else:
        assert math.isclose(parse_duration(f"{amount}{unit}"), amount * SCALE[unit])


@given(DECIMALS, st.sampled_from(sorted(SCALE)), st.sampled_from(["", " "]))
def test_duration_with_decimals_and_spaces(amount: object, unit: str, space: str) -> None:
    text = f"{amount}{space}{unit}"
    if float(str(amount)) * SCALE[unit] > MAX_DURATION_S:
        with pytest.raises(ValueError, match="at most 24h"):
            parse_duration(text)
        return
    assert math.isclose(parse_duration(text), float(str(amount)) * SCALE[unit], abs_tol=1e-9)


@given(st.floats(min_value=0, max_value=MAX_DURATION_S, allow_nan=False))
def test_duration_serialises_back_to_the_same_seconds(seconds: float) -> None:
    from pydantic import TypeAdapter

    adapter = TypeAdapter(Duration)
    text = adapter.dump_python(seconds)
    assert isinstance(text, str)
    assert math.isclose(adapter.validate_python(text), seconds, rel_tol=1e-5, abs_tol=1e-9)


@pytest.mark.parametrize("text", ["25h", "1441m", "86400001ms", "9" * 400 + "h"])
def test_an_absurd_duration_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="at most 24h"):
        parse_duration(text)


@given(st.integers(min_value=1, max_value=10**6), st.sampled_from(sorted(SCALE)))
def test_rate_round_trip(amount: int, unit: str) -> None:
    assert math.isclose(parse_rate(f"{amount}/{unit}"), amount / SCALE[unit])


@given(st.integers(min_value=0, max_value=100))
def test_percent_round_trip(percent: int) -> None:
    assert math.isclose(parse_fraction(f"{percent}%"), percent / 100)


@given(st.floats(min_value=0, max_value=1))
def test_fraction_round_trip(value: float) -> None:
    assert parse_fraction(value) == value


@given(st.floats(min_value=1e-6, max_value=1e6))
def test_format_duration_has_a_unit(seconds: float) -> None:
    assert format_duration(seconds).endswith(("ms", "s"))


@pytest.mark.parametrize("value", [2, "2", "2 sec", "-1s", "1.s", True, None, "1d"])
def test_duration_needs_a_known_unit(value: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(value)


@pytest.mark.parametrize("value", ["0/s", "20", 20, "20/d", "fast"])
def test_bad_rates(value: object) -> None:
    with pytest.raises(ValueError, match="rate"):
        parse_rate(value)


@pytest.mark.parametrize("value", [1.5, -0.1, "101%", "-1%", "half", True])
def test_bad_fractions(value: object) -> None:
    with pytest.raises(ValueError, match="fraction"):
        parse_fraction(value)

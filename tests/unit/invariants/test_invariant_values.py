"""Dotted paths and expectations shared by probe, steady and ledger."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from harness.invariants.values import MISSING, Expectation, read_path


def test_read_path_walks_dicts_and_lists() -> None:
    value = {"a": [{"b": 1}, {"b": 2}], "c": None}
    assert read_path(value, "a.1.b") == 2
    assert read_path(value, "a.-1.b") == 2
    assert read_path(value, "c") is None
    assert read_path(value, "") is value
    assert read_path(value, "a.2.b") is MISSING
    assert read_path(value, "a.x") is MISSING
    assert read_path("text", "a") is MISSING


def test_expectations_combine() -> None:
    spec = Expectation.model_validate({"in": [1, 2, 3], "above": 1})
    assert spec.holds(2)
    assert not spec.holds(1)
    assert not spec.holds(MISSING)
    assert spec.describe() == "in [1, 2, 3] and above 1"
    assert Expectation.model_validate({"equals": None}).holds(None)


@given(st.integers(), st.integers())
def test_above_below_agree_with_comparison(value: int, bound: int) -> None:
    assert Expectation(above=bound).holds(value) == (value > bound)
    assert Expectation(below=bound).holds(value) == (value < bound)

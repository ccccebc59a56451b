"""The registry: every kind is there, its refs name real fields, specs refuse unknowns."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from harness.invariants.registry import INVARIANTS

KINDS = [
    "alive",
    "availability",
    "distinct_ports",
    "exit",
    "ledger",
    "log",
    "no_orphans",
    "probe",
    "recovers",
    "restarts",
    "steady",
]


def test_every_kind_is_registered() -> None:
    assert INVARIANTS.names() == KINDS


@pytest.mark.parametrize("kind", KINDS)
def test_refs_name_fields_of_the_spec(kind: str) -> None:
    checker = INVARIANTS.get(kind)
    assert checker.name == kind
    assert set(checker.refs) <= set(checker.spec.model_fields)
    assert set(checker.refs.values()) <= {"role", "workload", "probe"}


@pytest.mark.parametrize("kind", KINDS)
def test_unknown_fields_are_refused(kind: str) -> None:
    with pytest.raises(ValidationError, match="bogus"):
        INVARIANTS.get(kind).spec.model_validate({"bogus": 1})


def test_only_the_ledger_collects() -> None:
    assert [k for k in KINDS if INVARIANTS.get(k).collect is not None] == ["ledger"]

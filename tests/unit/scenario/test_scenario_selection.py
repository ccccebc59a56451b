"""``-k EXPR`` selection and ``requires``."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.scenario.model import Scenario, SystemSpec
from harness.scenario.requires import missing_requirements, skip_reason
from harness.scenario.selection import compile_expression, select


@dataclass(frozen=True)
class Item:
    name: str
    tags: list[str] = field(default_factory=list)


ITEMS = [
    Item("backend-sigkill", ["sigkill", "restart"]),
    Item("module-freeze", ["sigstop", "ipc"]),
    Item("port-squat", ["ports"]),
    Item("ledger-jobs", ["ledger", "sigkill"]),
]


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("", ["backend-sigkill", "module-freeze", "port-squat", "ledger-jobs"]),
        ("sigkill", ["backend-sigkill", "ledger-jobs"]),
        ("SIGKILL", ["backend-sigkill", "ledger-jobs"]),
        ("kill and not ledger", ["backend-sigkill"]),
        ("freeze or squat", ["module-freeze", "port-squat"]),
        ("not (sigkill or ipc)", ["port-squat"]),
        ("(ledger or module) and (jobs or ipc)", ["module-freeze", "ledger-jobs"]),
        ("not not port", ["port-squat"]),
        ("a or b and c", ["backend-sigkill", "port-squat"]),
        ("nothing-like-this", []),
    ],
)
def test_select(expr: str, expected: list[str]) -> None:
    assert [item.name for item in select(ITEMS, expr)] == expected


def test_and_binds_tighter_than_or() -> None:
    match = compile_expression("x or y and z")
    assert match("x", [])
    assert not match("y", [])
    assert match("yz", [])


@pytest.mark.parametrize(
    ("expr", "where"),
    [
        ("a and", "at the end"),
        ("(a or b", "at the end"),
        ("a b", "column 3"),
        ("and a", "column 1"),
        ("a )", "column 3"),
        ("a & b", "column 3"),
        ("()", "column 2"),
    ],
)
def test_malformed_expressions_say_where(expr: str, where: str) -> None:
    with pytest.raises(UsageError, match=where) as caught:
        compile_expression(expr)
    assert repr(expr) in str(caught.value)


def test_select_works_on_scenarios() -> None:
    scenario = Scenario(name="s", tags=["slow"], system=SystemSpec(command=["x"]))
    assert select([scenario], "slow") == [scenario]


def _needing(*exes: str) -> Scenario:
    return Scenario(name="s", requires=list(exes), system=SystemSpec(command=["x"]))


def test_missing_requirements() -> None:
    assert missing_requirements(_needing()) == []
    assert missing_requirements(_needing("python3", "sh", sys.executable)) == []
    missing = missing_requirements(_needing("sh", "no-such-exe-for-chaos", "python"))
    assert missing == ["no-such-exe-for-chaos"]


def test_a_missing_path_is_not_said_to_be_missing_from_path(tmp_path: Path) -> None:
    """``requires: ["{vars.venv}/bin/uvicorn"]`` was looked for where it says, not on PATH;
    a file there that cannot be run is missing too."""
    plain = tmp_path / "not-executable"
    plain.write_text("")
    gone = str(tmp_path / "bin" / "uvicorn")
    missing = missing_requirements(_needing("no-such-exe-for-chaos", gone, str(plain)))
    assert missing == ["no-such-exe-for-chaos", gone, str(plain)]
    assert skip_reason(missing) == (
        f"requires no-such-exe-for-chaos (not found on PATH); {gone}, {plain} (no executable there)"
    )
    assert skip_reason(["supervisord"]) == "requires supervisord (not found on PATH)"

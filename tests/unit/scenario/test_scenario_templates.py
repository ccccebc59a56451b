"""Templates: the strict grammar, resolution, and which names a scenario may use."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.errors import ScenarioError
from harness.scenario.loader import load_scenario
from harness.scenario.templates import (
    TemplateError,
    escape,
    names_in,
    port_names,
    ready_groups,
    resolve,
    values_for,
)

DATA = Path(__file__).parents[2] / "data" / "scenarios"
NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,8}(\.[A-Za-z0-9_-]{1,6}){0,2}", fullmatch=True)


def test_names_in_finds_every_name_and_skips_escapes() -> None:
    assert names_in("{python} -m x --port {port} --admin {port.admin}") == {
        "python",
        "port",
        "port.admin",
    }
    assert names_in("{{port}} and {{ }}") == set()
    assert names_in("{{{vars.x}}}") == {"vars.x"}


@pytest.mark.parametrize(
    "text", ["{", "}", "{port", "a}b", "{ port }", "{1x}", "{}", "{a..b}", '{"a": 1}']
)
def test_a_stray_brace_is_an_error(text: str) -> None:
    with pytest.raises(TemplateError, match="brace"):
        names_in(text)


def test_resolve_substitutes_and_unescapes() -> None:
    values = {"port": "8080", "vars.x": "1"}
    assert resolve("http://h:{port}/{{id}}?x={vars.x}", values) == "http://h:8080/{id}?x=1"


def test_resolve_refuses_a_name_without_value() -> None:
    with pytest.raises(TemplateError, match=r"no value for \{nope\}"):
        resolve("{nope}", {"port": "1"})


@given(st.text())
def test_escape_then_resolve_is_identity(text: str) -> None:
    assert names_in(escape(text)) == set()
    assert resolve(escape(text), {}) == text


@given(st.lists(st.tuples(st.text(max_size=8), NAMES), max_size=5), st.text(max_size=8))
def test_resolve_replaces_exactly_the_names(parts: list[tuple[str, str]], tail: str) -> None:
    template = "".join(escape(lit) + "{" + name + "}" for lit, name in parts) + escape(tail)
    values = {name: f"<{name}>" for _, name in parts}
    expected = "".join(lit + f"<{name}>" for lit, name in parts) + tail
    assert names_in(template) == {name for _, name in parts}
    assert resolve(template, values) == expected


def test_values_for_one_instance() -> None:
    values = values_for(
        run_dir=Path("/r/0"),
        instance=0,
        ports={"": 4000, "admin": 4001},
        variables={"bugs": "x"},
        ready={"port": "5000"},
    )
    assert values == {
        "run_dir": "/r/0",
        "instance": "0",
        "python": sys.executable,
        "scenario_dir": str(Path.cwd()),
        "port": "4000",
        "port.admin": "4001",
        "bugs": "x",
        "vars.bugs": "x",
        "ready.port": "5000",
    }


def test_ready_groups_are_the_named_groups() -> None:
    assert ready_groups(r"on (?P<host>\S+):(?P<port>\d+) (\w+)") == {"host", "port"}
    assert ready_groups(None) == set()


def test_port_names_collects_every_port_used(registries: dict[str, Any]) -> None:
    ledger = load_scenario(DATA / "ok" / "ledger.yaml", **registries)
    assert port_names(ledger) == {"", "admin"}
    minimal = load_scenario(DATA / "ok" / "minimal.yaml", **registries)
    assert port_names(minimal) == set()


def test_regexes_names_and_descriptions_are_not_templates(
    tmp_path: Path, registries: dict[str, Any]
) -> None:
    path = tmp_path / "braces.yaml"
    path.write_text(
        "description: 'uses {literally} braces'\n"
        "tags: ['{x}']\n"
        "vars: {pattern: '{a}'}\n"
        "system:\n"
        "  command: [x]\n"
        "  ready: {log: 'ready \\d{2}'}\n"
        "roles:\n"
        "  worker: {cmdline: 'worker-\\d{1,3}'}\n"
        "invariants:\n"
        "  - log: {absent: 'x{3}'}\n",
        encoding="utf-8",
    )
    scenario = load_scenario(path, **registries)
    assert scenario.vars == {"pattern": "{a}"}


def test_template_extras_are_allowed_only_in_their_field(
    tmp_path: Path, registries: dict[str, Any]
) -> None:
    path = tmp_path / "extras.yaml"
    path.write_text(
        "system: {command: [x, '{id}']}\n"
        "workload: [{name: w, http: {url: 'http://h/'}, rate: 1/s}]\n"
        "invariants: [{ledger: {workload: w, lookup: 'http://h/{id}'}}]\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, **registries)
    assert (caught.value.line, caught.value.field) == (1, "system.command[1]")
    assert "{id}" in caught.value.message


def test_an_undeclared_name_is_refused_even_if_overridden(
    tmp_path: Path, registries: dict[str, Any]
) -> None:
    path = tmp_path / "undeclared.yaml"
    path.write_text("system: {command: [x, '{bugs}']}\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="declare it under vars"):
        load_scenario(path, {"bugs": "y"}, **registries)

"""Validate equals run: what a trial would refuse once started is refused at load, with its
line, in one round with every other problem; templated values are checked after the vars
resolve them, again when new vars are given (``--var``, ``chaos matrix``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.errors import ScenarioError
from harness.scenario.loader import (
    discover,
    load_scenario,
    problems,
    problems_of_all,
    scenario_from_mapping,
    with_overrides,
)

DATA = Path(__file__).parents[2] / "data" / "scenarios"


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def where(found: list[ScenarioError]) -> list[tuple[int | None, str | None]]:
    return [(e.line, e.field) for e in found]


# --------------------------------------------------------------------------- one round


def test_structural_and_reference_problems_come_in_one_round(
    tmp_path: Path, registries: dict[str, Any]
) -> None:
    path = write(
        tmp_path,
        "timeout: soon\n"  # 1 structural
        "system:\n"
        "  command: [sleep, '{nope}']\n"  # 3 template
        "roles:\n"
        "  backend: {cmdline: '('}\n"  # 5 bad regex: the role still exists
        "workload:\n"
        "  - {name: ui, rate: fast, http: {url: 'http://127.0.0.1:{port}/'}}\n"  # 7 bad rate
        "  - {name: ui, rate: 5/s, http: {url: 'http://10.0.0.1/'}}\n"  # 8 duplicate, host
        "faults:\n"
        "  - {at: 1s, kill: {role: backnd}}\n"  # 10 unknown role
        "invariants:\n"
        "  - {availability: {workload: ui, min: 2}}\n"  # 12 fraction out of range
        "  - {availability: {workload: api, min: 1}}\n",  # 13 unknown workload
    )

    found = problems(path, **registries)

    assert where(found) == [
        (1, "timeout"),
        (3, "system.command[1]"),
        (5, "roles.backend.cmdline"),
        (7, "workload[0].rate"),
        (8, "workload[1].name"),
        (8, "workload[1].http.url"),
        (10, "faults[0].kill.role"),
        (12, "invariants[0].availability.min"),
        (13, "invariants[1].availability.workload"),
    ]
    assert "did you mean 'backend'?" in found[6].message


def test_a_malformed_vars_section_does_not_flood_every_template(
    tmp_path: Path, registries: dict[str, Any]
) -> None:
    path = write(tmp_path, "vars: [a, b]\nsystem:\n  command: [sleep, '{a}', '{b}']\n")
    assert where(problems(path, **registries)) == [(1, "vars")]


def test_validate_of_several_files_refuses_a_name_used_twice_as_run_does(
    tmp_path: Path, registries: dict[str, Any]
) -> None:
    text = "name: same\nsystem:\n  command: [sleep, '1']\n"
    first, second = write(tmp_path, text, "a.yaml"), write(tmp_path, text, "b.yaml")

    found = problems_of_all(discover([tmp_path]), kinds=registries["kinds"])

    assert found[first] == []
    (error,) = found[second]
    assert (error.line, error.field) == (1, "name")
    assert f"is also used by {first}" in error.message


# --------------------------------------------------------------------------- targets


@pytest.mark.parametrize(
    ("vars_", "url", "message"),
    [
        ("{host: example.com}", "http://{host}:{port}/", "'example.com' is not a loopback"),
        ("{scheme: https}", "{scheme}://127.0.0.1:{port}/", "expected an http:// URL"),
        ("{p: '0'}", "http://127.0.0.1:{p}/", "must be a number from 1 to 65535"),
        ("{p: '65536'}", "http://127.0.0.1:{p}/", "must be a number from 1 to 65535"),
        ("{p: x}", "http://127.0.0.1:{p}/", "must be a number from 1 to 65535"),
        ("{p: '1'}", "http://[::1:{p}/", "expected an http:// URL"),
    ],
)
def test_a_target_is_checked_after_its_templates_resolve(
    tmp_path: Path, registries: dict[str, Any], vars_: str, url: str, message: str
) -> None:
    path = write(
        tmp_path,
        f"vars: {vars_}\nsystem:\n  command: [sleep, '1']\n  ready: {{http: {{url: '{url}'}}}}\n",
    )
    (error,) = problems(path, **registries)
    assert (error.line, error.field) == (4, "system.ready.http.url")
    assert message in error.message


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/status",
        "http://localhost:{port.admin}/",
        "http://[::1]:{port}/",
        "http://127.0.0.1/",
        "http://{ready.host}:{ready.port}/",  # known only once ready: left to the trial
    ],
)
def test_good_targets_pass(tmp_path: Path, registries: dict[str, Any], url: str) -> None:
    path = write(
        tmp_path,
        "system:\n  command: [sleep, '1']\n"
        "  ready: {log: 'on (?P<host>\\S+):(?P<port>\\d+)'}\n"
        f"probes: {{s: {{http: {{url: '{url}'}}}}}}\n",
    )
    assert problems(path, **registries) == []


def test_a_host_must_be_this_machine(tmp_path: Path, registries: dict[str, Any]) -> None:
    path = write(
        tmp_path,
        "vars: {h: 192.168.1.1}\n"
        "system:\n  command: [sleep, '1']\n  ready: {tcp: {port: '{port}', host: '{h}'}}\n",
    )
    (error,) = problems(path, **registries)
    assert (error.line, error.field) == (4, "system.ready.tcp.host")
    assert "'192.168.1.1' is not a loopback or wildcard address" in error.message


def test_an_instance_beyond_the_systems_copies_is_refused_wherever_it_is(
    tmp_path: Path, registries: dict[str, Any]
) -> None:
    path = write(
        tmp_path,
        "system:\n  command: [sleep, '1']\n"
        "roles: {w: {cmdline: w}}\n"
        "probes: {s: {http: {url: 'http://127.0.0.1:{port}/'}, instance: 1}}\n"
        "faults:\n  - {on_spawn: {role: w, instance: 3}, freeze: {for: 1s}}\n",
    )
    assert where(problems(path, **registries)) == [
        (4, "probes.s.instance"),
        (6, "faults[0].on_spawn.instance"),
    ]


# --------------------------------------------------------------------------- timing


@pytest.mark.parametrize(
    ("fields", "refused"),
    [
        ("timeout: 10s\nduration: 4s\n", False),
        ("timeout: 10s\nduration: 5s\n", True),  # + the default 5s grace: nothing left
        ("timeout: 3s\n", True),  # the default duration is 5s
        ("timeout: 24h\nduration: 23h\n", False),
    ],
)
def test_a_trial_must_fit_in_its_timeout(
    tmp_path: Path, registries: dict[str, Any], fields: str, refused: bool
) -> None:
    path = write(tmp_path, fields + "system:\n  command: [sleep, '1']\n")
    found = problems(path, **registries)
    assert bool(found) is refused, found
    if refused:
        assert "raise timeout above" in found[0].message


# --------------------------------------------------------------------------- templated values


def test_templated_durations_rates_and_fractions_resolve_with_the_vars(
    registries: dict[str, Any],
) -> None:
    scenario = load_scenario(DATA / "ok" / "templated.yaml", **registries)
    assert scenario.faults[0].at == 1.0
    assert scenario.invariants[0].spec.within == 0.75  # type: ignore[attr-defined]
    assert scenario.invariants[1].spec.min == 0.99  # type: ignore[attr-defined]
    assert scenario.workload[0].rate == 20.0
    assert scenario.probes["status"].every == 1.0
    assert scenario.system.ready.timeout == 1.0
    assert scenario.system.stop.signal == 2  # SIG{stop}, stop: INT


def test_a_var_given_on_the_command_line_is_what_a_templated_duration_uses(
    registries: dict[str, Any],
) -> None:
    path = DATA / "ok" / "templated.yaml"
    assert load_scenario(path, {"recovery": "2s"}, **registries).invariants[0].spec.within == 2.0  # type: ignore[attr-defined]
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, {"recovery": "soon"}, **registries)
    assert (caught.value.line, caught.value.field) == (28, "invariants[0].recovers.within")


def test_new_vars_are_validated_as_the_file_was(registries: dict[str, Any]) -> None:
    """``chaos matrix`` applies each value with ``with_overrides``: a value that makes the
    scenario invalid is refused there, with its line, as ``validate --var`` would."""
    scenario = with_overrides(load_scenario(DATA / "ok" / "templated.yaml", **registries), repeat=3)

    slower = with_overrides(scenario, variables={"recovery": "1s", "undeclared": "x"})
    assert slower.invariants[0].spec.within == 1.0  # type: ignore[attr-defined]
    assert (slower.repeat, slower.vars["recovery"]) == (3, "1s")
    assert scenario.invariants[0].spec.within == 0.75  # type: ignore[attr-defined]
    for value, line in (("forever", 28), ("example.com", 13)):
        key = "recovery" if value == "forever" else "host"
        with pytest.raises(ScenarioError) as caught:
            with_overrides(scenario, variables={key: value})
        assert caught.value.line == line


def test_a_mapping_scenario_resolves_templated_durations_too(registries: dict[str, Any]) -> None:
    scenario = scenario_from_mapping(
        {"vars": {"d": "2s"}, "system": {"command": ["sleep", "1"]}, "duration": "{d}"},
        **registries,
    )
    assert scenario.duration == 2.0
    assert scenario.line_of("duration") is None  # no file, no line


def test_a_scenario_knows_the_line_of_its_fields(registries: dict[str, Any]) -> None:
    scenario = load_scenario(DATA / "ok" / "templated.yaml", **registries)
    assert scenario.line_of("system", "command") == 12
    assert scenario.line_of("requires") == 3  # not written: the top of the file

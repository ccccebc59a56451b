"""``include:`` fragments, ``{scenario_dir}`` and templated ``requires``: what merges, and
where every error in an included file is reported (its file, line and field, and the
include line that brought it in)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from harness.errors import ScenarioError
from harness.scenario.include import MAX_DEPTH
from harness.scenario.loader import discover, load_scenario, problems
from harness.scenario.requires import missing_requirements
from harness.scenario.templates import values_for

COMMON = """\
system:
  command: [sleep, '30']
  stop: {signal: SIGTERM, grace: 2s}
roles:
  app: {root: true}
duration: 2s
faults:
  - {at: 1s, kill: {role: app}}
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def where(found: list[ScenarioError]) -> list[tuple[str | None, int | None, str | None]]:
    return [(Path(e.file).name if e.file else None, e.line, e.field) for e in found]


def test_a_fragment_merges_under_the_including_file(
    tmp_path: Path, registries: dict[str, Any]
) -> None:
    write(tmp_path, "common.fragment.yaml", COMMON)
    path = write(
        tmp_path,
        "s.yaml",
        "include: common.fragment.yaml\n"
        "duration: 3s\n"  # a scalar: replaced
        "system: {ready: {log: up}}\n"  # a mapping: merged key by key
        "faults: []\n",  # a list: replaced whole
    )
    scenario = load_scenario(path, **registries)
    assert scenario.name == "s"
    assert scenario.duration == 3.0
    assert scenario.system.command == ["sleep", "30"]
    assert scenario.system.ready is not None
    assert scenario.system.ready.log == "up"
    assert scenario.system.stop.grace == 2.0
    assert scenario.faults == []
    assert list(scenario.roles) == ["app"]


def test_an_error_in_a_fragment_is_located_in_the_fragment(
    tmp_path: Path, registries: dict[str, Any]
) -> None:
    write(tmp_path, "common.fragment.yaml", COMMON.replace("kill: {role: app}", "kill: {role: ap}"))
    path = write(tmp_path, "s.yaml", "# shared\ninclude: [common.fragment.yaml]\n")
    [error] = problems(path, **registries)
    assert where([error]) == [("common.fragment.yaml", 8, "faults[0].kill.role")]
    assert f"(included from {path}:2)" in error.message


def test_a_fragment_overrides_what_it_includes(tmp_path: Path, registries: dict[str, Any]) -> None:
    write(tmp_path, "parts/base.fragment.yaml", "duration: soon\nrepeat: 3\n")
    write(tmp_path, "parts/mid.fragment.yaml", "include: base.fragment.yaml\n" + COMMON)
    path = write(tmp_path, "s.yaml", "include: parts/mid.fragment.yaml\n")
    # the including fragment's own ``duration: 2s`` wins over the base's invalid one
    scenario = load_scenario(path, **registries)
    assert (scenario.duration, scenario.repeat) == (2.0, 3)


def test_an_error_deeper_down_says_how_it_was_included(
    tmp_path: Path, registries: dict[str, Any]
) -> None:
    write(tmp_path, "parts/base.fragment.yaml", "repeat: many\n")
    write(tmp_path, "parts/mid.fragment.yaml", "include: base.fragment.yaml\n" + COMMON)
    path = write(tmp_path, "s.yaml", "\ninclude: parts/mid.fragment.yaml\n")
    [error] = problems(path, **registries)
    assert where([error]) == [("base.fragment.yaml", 1, "repeat")]
    mid = tmp_path / "parts" / "mid.fragment.yaml"
    assert f"included from {mid}:1, included from {path}:2" in error.message


@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        ("system: {command: [a\n", ("x.fragment.yaml", 2, None)),  # YAML error: its line
        ("- a list\n", ("x.fragment.yaml", 1, None)),
        ("name: other\n", ("x.fragment.yaml", 1, "name")),
    ],
)
def test_a_fragment_that_cannot_be_used_is_located_in_it(
    tmp_path: Path, registries: dict[str, Any], fragment: str, expected: tuple[Any, ...]
) -> None:
    write(tmp_path, "x.fragment.yaml", fragment)
    path = write(tmp_path, "s.yaml", COMMON + "include: x.fragment.yaml\n")
    [error] = problems(path, **registries)
    assert where([error]) == [expected]
    assert "included from" in error.message


def test_a_missing_fragment_is_an_error_at_the_include_line(
    tmp_path: Path, registries: dict[str, Any]
) -> None:
    path = write(tmp_path, "s.yaml", COMMON + "include:\n  - gone.fragment.yaml\n")
    [error] = problems(path, **registries)
    assert where([error]) == [("s.yaml", 10, "include")]
    assert "cannot read" in error.message


def test_a_cycle_is_refused_with_its_chain(tmp_path: Path, registries: dict[str, Any]) -> None:
    write(tmp_path, "a.fragment.yaml", "include: b.fragment.yaml\n")
    write(tmp_path, "b.fragment.yaml", "include: a.fragment.yaml\n")
    path = write(tmp_path, "s.yaml", COMMON + "include: a.fragment.yaml\n")
    [error] = problems(path, **registries)
    assert where([error]) == [("b.fragment.yaml", 1, "include")]
    assert "a cycle: a.fragment.yaml -> b.fragment.yaml -> a.fragment.yaml" in error.message


def test_includes_are_bounded_in_depth(tmp_path: Path, registries: dict[str, Any]) -> None:
    for level in range(MAX_DEPTH + 2):
        write(tmp_path, f"f{level}.fragment.yaml", f"include: f{level + 1}.fragment.yaml\n")
    write(tmp_path, f"f{MAX_DEPTH + 2}.fragment.yaml", "duration: 1s\n")
    path = write(tmp_path, "s.yaml", COMMON + "include: f0.fragment.yaml\n")
    [error] = problems(path, **registries)
    assert f"more than {MAX_DEPTH} levels" in error.message


def test_discovery_skips_fragments(tmp_path: Path) -> None:
    write(tmp_path, "common.fragment.yaml", COMMON)
    scenario = write(tmp_path, "s.yaml", "include: common.fragment.yaml\n")
    assert discover([tmp_path]) == [scenario]


def test_scenario_dir_is_the_folder_of_the_file() -> None:
    values = values_for(
        run_dir="/r", scenario_file="some/where/s.yaml", instance=0, ports={}, variables={}
    )
    assert values["scenario_dir"] == str(Path("some/where").resolve())


def test_scenario_dir_is_a_known_template(tmp_path: Path, registries: dict[str, Any]) -> None:
    text = COMMON.replace("[sleep, '30']", "['{scenario_dir}/run.sh']")
    assert problems(write(tmp_path, "s.yaml", text), **registries) == []


def test_requires_may_use_vars_and_is_resolved_before_the_check(
    tmp_path: Path, registries: dict[str, Any]
) -> None:
    tool = write(tmp_path, "venv/bin/tool", "#!/bin/sh\n")
    os.chmod(tool, 0o755)
    text = "vars: {venv: VENV}\nrequires: ['{vars.venv}/bin/tool', '{scenario_dir}/nope']\n"
    path = write(tmp_path, "s.yaml", text.replace("VENV", str(tmp_path / "venv")) + COMMON)
    scenario = load_scenario(path, **registries)
    assert missing_requirements(scenario) == [str(tmp_path / "nope")]
    other = load_scenario(path, {"venv": "/nowhere"}, **registries)
    assert missing_requirements(other)[0] == "/nowhere/bin/tool"


def test_requires_refuses_a_name_only_a_trial_knows(
    tmp_path: Path, registries: dict[str, Any]
) -> None:
    path = write(tmp_path, "s.yaml", COMMON + "requires: [nginx, '{run_dir}/x']\n")
    [error] = problems(path, **registries)
    assert (error.line, error.field) == (9, "requires[1]")
    assert "only vars, {python} and {scenario_dir}" in error.message

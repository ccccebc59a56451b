"""The loader: every broken file names its file, line and field; good files load."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from scenario_kinds import KillSpec

from harness.errors import ScenarioError
from harness.scenario.loader import (
    discover,
    load_all,
    load_scenario,
    parse_var,
    problems,
    with_overrides,
)
from harness.scenario.model import FaultEntry, OnSpawn

DATA = Path(__file__).parents[2] / "data" / "scenarios"
BROKEN = sorted((DATA / "broken").glob("*.yaml"))
OK = sorted((DATA / "ok").glob("*.yaml"))
EXPECT = re.compile(r"^# expect: (\d+|-)(?::(\d+))? (\S+) \| (.+)$")

REQUIRED_CASES = {
    "yaml_syntax",
    "empty",
    "not_mapping",
    "unknown_field",
    "wrong_type",
    "unknown_fault_kind",
    "unknown_invariant_kind",
    "fault_no_trigger",
    "fault_two_triggers",
    "fault_no_kind",
    "fault_two_kinds",
    "bad_regex",
    "bad_signal",
    "bad_duration",
    "bad_rate",
    "bad_percentage",
    "percentage_out_of_range",
    "undefined_template",
    "unknown_role_fault",
    "unknown_role_on_spawn",
    "unknown_role_invariant",
    "unknown_workload",
    "unknown_probe",
    "duplicate_workload",
    "missing_command",
    # bounds: nothing can exhaust the harness (issue 12)
    "alias_bomb",
    "alias_bomb_env",
    "alias_recursive",
    "alias_recursive_map",
    "deep_nesting",
    "regex_nested_groups",
    "regex_too_long",
    "huge_integer",
    "huge_hex_integer",
    "unsupported_tag",
    "python_tag",
    "explicit_int_not_a_number",
    # text that an output would obey is reported as written
    "markup_key",
    "link_key",
    "error_on_line_100",
    # every error has a place
    "nul_character",
    "control_character",
    "not_utf8",
    "brace_in_block",
    "undefined_in_block",
    # validate refuses what run would
    "empty_command",
    "empty_program_template",
    "template_host_not_loopback",
    "url_port_out_of_range",
    "squat_port_out_of_range",
    "template_port_out_of_range",
    "repeat_true",
    "count_true",
    "duration_over_timeout",
    "settle_over_timeout",
    "absurd_duration",
    "templated_duration_undefined",
    "templated_duration_bad_value",
    "instance_out_of_range",
    "env_bad_name",
    "nul_in_argument",
    # schedules: generators and event triggers (issue 17)
    "jitter_without_time",
    "count_without_every",
    "every_zero",
    "mix_empty",
    "mix_unknown_kind",
    "mix_unknown_role",
    "on_log_role_without_pid",
    "on_request_unknown_workload",
    "on_probe_no_condition",
    "on_probe_unknown_probe",
    "at_after_duration",
    "jitter_past_duration",
    "every_count_past_chaos",
    "at_in_warmup",
    "phases_no_chaos",
    "freeze_into_heal",
    "lasting_without_for_into_heal",
    "expect_exit_with_alive",
    "forked_from_cycle",
    "every_too_many",
}


def _expectation(path: Path) -> tuple[int | None, int | None, str | None, str]:
    """Each broken file states its expected error on its first line (the rest of the file
    may be anything, even bytes that are not UTF-8)."""
    first = path.read_bytes().split(b"\n", 1)[0].decode("utf-8")
    found = EXPECT.match(first)
    assert found, f"{path.name}: first line must be '# expect: LINE[:COLUMN] FIELD | message'"
    line, column, field, message = found.groups()
    return (
        None if line == "-" else int(line),
        None if column is None else int(column),
        None if field == "-" else field,
        message,
    )


def test_the_broken_corpus_covers_every_required_case() -> None:
    missing = REQUIRED_CASES - {p.stem for p in BROKEN}
    assert not missing


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_broken_file_gives_file_line_field_and_message(
    path: Path, registries: dict[str, Any]
) -> None:
    line, column, field, message = _expectation(path)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, **registries)
    error = caught.value
    assert error.file == str(path)
    assert error.line == line
    assert error.column == column
    assert error.field == field
    assert message in error.message
    assert "Input should be" not in error.message  # never a raw pydantic sentence
    where = f"{line}:{column}" if column else str(line)
    assert str(error).startswith(f"{path}:{where}: " if line else f"{path}: ")


@pytest.mark.parametrize("path", OK, ids=lambda p: p.stem)
def test_good_files_load(path: Path, registries: dict[str, Any]) -> None:
    scenario = load_scenario(path, **registries)
    assert scenario.file == str(path)
    assert problems(path, **registries) == []


def test_the_contract_example_loads_with_typed_entries(registries: dict[str, Any]) -> None:
    scenario = load_scenario(DATA / "ok" / "full.yaml", **registries)
    assert scenario.name == "backend-sigkill"
    assert scenario.timeout == 60.0
    assert scenario.system.stop.signal == 15
    assert [f.kind for f in scenario.faults] == [
        "kill",
        "freeze",
        "squat_port",
        "freeze",
        "request",
        "kill",
    ]
    first = scenario.faults[0]
    assert (first.index, first.at, first.line) == (0, 1.0, 38)
    assert first.spec.signal == 9  # type: ignore[attr-defined]
    assert scenario.faults[2].before == "start"
    assert scenario.faults[3].on_spawn == OnSpawn(role="module", nth=1)
    assert scenario.faults[3].spec.for_ == 3.0  # type: ignore[attr-defined]
    assert scenario.faults[5].spec.count == "all"  # type: ignore[attr-defined]
    assert [i.kind for i in scenario.invariants][:3] == ["recovers", "restarts", "availability"]
    assert scenario.invariants[2].spec.min == 1.0  # type: ignore[attr-defined]
    assert scenario.invariants[0].line == 54
    # JSON bodies are sent as written: braces in them are not templates.
    assert scenario.workload[0].spec.json_body == {"text": "{not a template}"}


def test_name_defaults_to_stem_and_vars_become_text(registries: dict[str, Any]) -> None:
    scenario = load_scenario(DATA / "ok" / "ledger.yaml", **registries)
    assert scenario.name == "ledger"
    assert scenario.vars == {"seconds": "0.5", "retries": "3", "verbose": "true"}
    assert scenario.invariants[1].kind == "distinct_ports"  # null options: all defaults


def test_overrides_replace_declared_vars_and_ignore_others(registries: dict[str, Any]) -> None:
    path = DATA / "ok" / "full.yaml"
    scenario = load_scenario(path, {"bugs": "no-restart", "other": "x"}, **registries)
    assert scenario.vars == {"bugs": "no-restart"}


def test_problems_lists_every_error_in_line_order_in_one_round(
    tmp_path: Path, registries: dict[str, Any]
) -> None:
    """Structural and cross-reference problems alike: nothing waits for another fix."""
    path = tmp_path / "many.yaml"
    path.write_text(
        "repeat: 0\n"
        "system:\n"
        "  command: [sleep, '{nope}']\n"
        "faults:\n"
        "  - {at: 1s, kill: {role: ghost}}\n",
        encoding="utf-8",
    )
    found = problems(path, **registries)
    assert [(e.line, e.field) for e in found] == [
        (1, "repeat"),
        (3, "system.command[1]"),
        (5, "faults[0].kill.role"),
    ]
    path.write_text(
        "system:\n  command: [sleep, '{nope}']\nfaults:\n  - {at: 1s, kill: {role: ghost}}\n",
        encoding="utf-8",
    )
    found = problems(path, **registries)
    assert [(e.line, e.field) for e in found] == [
        (2, "system.command[1]"),
        (4, "faults[0].kill.role"),
    ]


def test_file_is_the_path_as_given(tmp_path: Path, registries: dict[str, Any]) -> None:
    shutil.copy(DATA / "ok" / "minimal.yaml", tmp_path / "m.yml")
    relative = Path(tmp_path.name) / "m.yml"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path.parent)
        scenario = load_scenario(relative, **registries)
    assert scenario.file == str(relative)
    assert scenario.name == "m"


def test_missing_file_is_a_scenario_error(tmp_path: Path, registries: dict[str, Any]) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(tmp_path / "nope.yaml", **registries)
    assert caught.value.file == str(tmp_path / "nope.yaml")


def test_fault_entry_refuses_zero_or_two_triggers() -> None:
    spec = KillSpec(role="x")
    with pytest.raises(ValueError, match="exactly one trigger"):
        FaultEntry(index=0, kind="kill", spec=spec)
    with pytest.raises(ValueError, match="exactly one trigger"):
        FaultEntry(index=0, kind="kill", spec=spec, at=1.0, before="start")


# --------------------------------------------------------------------------- discovery


def test_discover_searches_folders_recursively_and_sorts(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    for name in ["b/z.yaml", "a.yml", "b/c.yaml", "notes.txt"]:
        (tmp_path / name).write_text("system: {command: [x]}\n", encoding="utf-8")
    extra = tmp_path / "explicit.conf"
    extra.write_text("", encoding="utf-8")
    found = discover([tmp_path, extra, tmp_path / "a.yml"])
    assert found == [tmp_path / "a.yml", tmp_path / "b/c.yaml", tmp_path / "b/z.yaml", extra]


def test_discover_refuses_a_missing_path_and_an_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no such file or folder") as caught:
        discover([tmp_path / "missing"])
    assert caught.value.file == str(tmp_path / "missing")
    with pytest.raises(ScenarioError, match=r"no \*\.yaml"):
        discover([tmp_path])


def test_load_all_refuses_two_scenarios_with_one_name(
    tmp_path: Path, registries: dict[str, Any]
) -> None:
    for name in ["one.yaml", "two.yaml"]:
        (tmp_path / name).write_text("name: same\nsystem: {command: [x]}\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="also used by") as caught:
        load_all([tmp_path], **registries)
    assert caught.value.file == str(tmp_path / "two.yaml")
    (tmp_path / "two.yaml").write_text("system: {command: [x]}\n", encoding="utf-8")
    assert [s.name for s in load_all([tmp_path], **registries)] == ["same", "two"]


# --------------------------------------------------------------------------- overrides


@pytest.mark.parametrize(
    ("text", "expected"),
    [("bugs=no-restart", ("bugs", "no-restart")), ("a=", ("a", "")), ("k=x=y", ("k", "x=y"))],
)
def test_parse_var(text: str, expected: tuple[str, str]) -> None:
    assert parse_var(text) == expected


@pytest.mark.parametrize("text", ["bugs", "=x", "a b=1", "vars.x=1", ""])
def test_parse_var_refuses_malformed(text: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_var(text)
    assert caught.value.file is None
    assert "--var" in str(caught.value)


def test_with_overrides(registries: dict[str, Any]) -> None:
    scenario = load_scenario(DATA / "ok" / "full.yaml", **registries)
    changed = with_overrides(scenario, repeat=2, variables={"bugs": "x", "undeclared": "y"})
    assert (changed.repeat, changed.vars) == (2, {"bugs": "x"})
    assert (scenario.repeat, scenario.vars) == (5, {"bugs": ""})  # the original is untouched
    assert with_overrides(scenario) is scenario
    with pytest.raises(ScenarioError, match="--repeat"):
        with_overrides(scenario, repeat=0)


@pytest.mark.parametrize(
    ("yaml_text", "line", "field", "message"),
    [
        ("faults: [{}]", 2, "faults[0]", "found none"),
        ("faults: [at 1s]", 2, "faults[0]", "expected a mapping such as {at: 1s"),
        ("faults: {at: 1s}", 2, "faults", "expected a list of faults"),
        ("invariants: [{}]", 2, "invariants[0]", "found none"),
        (
            "invariants: [{alive: {role: a}, log: {absent: x}}]",
            2,
            "invariants[0]",
            "found alive, log",
        ),
        ("invariants: [{distinct_ports: 3}]", 2, "invariants[0].distinct_ports", "({})"),
        ("system: {command: [x], stop: {signal: SIGNOPE}}", 1, "system.stop.signal", "SIGNOPE"),
        ("system: {command: [x], share: [pot]}", 1, "system.share[0]", "'port' or 'run_dir'"),
        ("system: {command: [x], instances: 0}", 1, "system.instances", "at least 1, got 0"),
    ],
)
def test_entry_and_model_errors(
    tmp_path: Path,
    registries: dict[str, Any],
    yaml_text: str,
    line: int,
    field: str,
    message: str,
) -> None:
    path = tmp_path / "case.yaml"
    body = yaml_text if yaml_text.startswith("system") else "system: {command: [x]}\n" + yaml_text
    path.write_text(body + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, **registries)
    assert (caught.value.line, caught.value.field) == (line, field)
    assert message in caught.value.message


def test_a_dumped_scenario_keeps_each_kinds_options(registries: dict[str, Any]) -> None:
    scenario = load_scenario(DATA / "ok" / "full.yaml", **registries)
    dumped = scenario.model_dump(mode="json", by_alias=True)
    assert dumped["faults"][0]["spec"] == {
        "role": "backend",
        "signal": "SIGKILL",
        "count": 1,
        "which": "random",
    }
    assert dumped["faults"][1]["spec"] == {"role": "worker", "for": "2000ms"}
    assert dumped["system"]["stop"]["signal"] == "SIGTERM"


def test_scenario_from_mapping_runs_the_same_checks(registries: dict[str, Any]) -> None:
    from harness.scenario.loader import scenario_from_mapping

    scenario = scenario_from_mapping(
        {"vars": {"mode": "a"}, "system": {"command": ["x", "{mode}"]}},
        {"mode": "b"},
        **registries,
    )
    assert (scenario.name, scenario.file, scenario.vars) == ("inline", "", {"mode": "b"})
    with pytest.raises(ScenarioError) as caught:
        scenario_from_mapping({"system": {"command": ["{nope}"]}}, **registries)
    assert (caught.value.file, caught.value.line) == (None, None)
    assert caught.value.field == "system.command[0]"


def test_schedule_generators_and_event_triggers_load_typed(registries: dict[str, Any]) -> None:
    scenario = load_scenario(DATA / "ok" / "schedules.yaml", **registries)
    jittered, counted, mixed, logged, named, acked, probed = scenario.faults
    assert (jittered.at, jittered.jitter, jittered.trigger) == (2.0, 0.5, "at")
    assert (counted.every, counted.count, counted.at, counted.trigger) == (1.0, 3, None, "every")
    assert mixed.kind == "mix"
    assert [c.kind for c in mixed.choices] == ["kill", "freeze"]
    assert mixed.choices[1].spec.for_ == 0.2  # type: ignore[attr-defined]
    assert logged.on_log is not None
    assert logged.on_log.pattern == r"module (?P<pid>\d+) registered"  # the short form
    assert named.on_log is not None
    assert (named.on_log.role, named.on_log.nth) == ("module", 2)
    assert acked.on_request is not None
    assert acked.on_request.acknowledged
    assert probed.on_probe is not None
    assert probed.on_probe.in_ == ["crashed", "failed"]
    assert scenario.phases is not None
    assert (scenario.phases.warmup, scenario.phases.heal) == (1.0, 2.0)

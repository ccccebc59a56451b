"""Scenario files → validated ``Scenario`` models, every error located as file:line: field.

Loading is a pipeline of checks, each returning ``Problem``s rather than raising, so
``chaos validate`` can list every problem of a file (``problems``) while ``load_scenario``
raises the first one (by line) as a ``ScenarioError``. Order: the bytes (size, UTF-8,
allowed characters), YAML within bounds, the top-level shape, fault and invariant entries
against their registries, the typed model, then the cross-field checks (references,
duplicates, templates) and what a trial would refuse before its first fault (targets after
templates, instances, timing). The cross-field checks run on whatever validated, so one
round finds every problem. ``run`` loads through the same pipeline: validate equals run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from harness.errors import ScenarioError
from harness.scenario import checks, include
from harness.scenario.entries import fault_entries, invariant_entries, probe_entries
from harness.scenario.kinds import Kinds
from harness.scenario.messages import describe, problems_from
from harness.scenario.model import FaultEntry, InvariantEntry, ProbeEntry, Scenario, WorkloadSpec
from harness.scenario.parts import Parts, effective_vars, from_scenario, salvage
from harness.scenario.preflight import preflight_problems
from harness.scenario.requires import missing_requirements, requires_problems, skip_reason
from harness.scenario.selection import select as select_scenarios
from harness.scenario.source import (
    MAX_REPORTED,
    LineMap,
    Problem,
    SourceError,
    located,
    parse,
    read_source,
    yaml_problem,
)
from harness.scenario.templates import NAME, vars_resolver
from harness.scenario.timing import timing_problems
from harness.scenario.workloads import workload_entries
from harness.spec.units import TEMPLATES

__all__ = [
    "MAX_REPORTED",
    "discover",
    "load_all",
    "load_scenario",
    "missing_requirements",
    "parse_var",
    "problems",
    "scenario_from_mapping",
    "select_scenarios",
    "skip_reason",
    "with_overrides",
]

SUFFIXES = (".yaml", ".yml")
_EMPTY: Mapping[str, str] = {}


def load_scenario(
    path: Path,
    overrides: Mapping[str, str] = _EMPTY,
    *,
    kinds: Kinds,
) -> Scenario:
    """Load and validate one file; ``overrides`` (``--var``) replace declared vars.

    Overrides for vars the scenario does not declare are ignored: one command line serves
    a whole folder of scenarios. Raises ``ScenarioError`` for the first problem by line.
    """
    scenario, errors = _load(path, overrides, kinds)
    if errors:
        raise errors[0]
    assert scenario is not None
    return scenario


def problems(
    path: Path,
    overrides: Mapping[str, str] = _EMPTY,
    *,
    kinds: Kinds,
) -> list[ScenarioError]:
    """Every problem of one file, in line order (empty: the file is valid)."""
    return _load(path, overrides, kinds)[1]


def problems_of_all(
    files: Sequence[Path],
    overrides: Mapping[str, str] = _EMPTY,
    *,
    kinds: Kinds,
) -> dict[Path, list[ScenarioError]]:
    """Every problem of every file, as ``run`` of them all would find (``chaos validate``):
    each file's own, and a name that another file of the same run already uses."""
    found: dict[Path, list[ScenarioError]] = {}
    seen: dict[str, str] = {}
    for file in files:
        scenario, errors = _load(file, overrides, kinds)
        if scenario is not None:
            clash = _name_clash(scenario, seen)
            errors = [clash] if clash else errors
        found[file] = errors
    return found


def _name_clash(scenario: Scenario, seen: dict[str, str]) -> ScenarioError | None:
    if scenario.name in seen:
        return ScenarioError(
            f"scenario name {scenario.name!r} is also used by {seen[scenario.name]}; "
            "names must be unique within a run",
            file=scenario.file,
            line=scenario.line_of("name"),
            field="name",
        )
    seen[scenario.name] = scenario.file
    return None


def load_all(
    paths: Sequence[Path],
    overrides: Mapping[str, str] = _EMPTY,
    *,
    kinds: Kinds,
) -> list[Scenario]:
    """Discover and load every scenario; names must be unique within a run."""
    scenarios: list[Scenario] = []
    seen: dict[str, str] = {}
    for file in discover(paths):
        scenario = load_scenario(file, overrides, kinds=kinds)
        clash = _name_clash(scenario, seen)
        if clash:
            raise clash
        scenarios.append(scenario)
    return scenarios


def discover(paths: Sequence[Path]) -> list[Path]:
    """Files as given, folders searched recursively for ``*.yaml``/``*.yml`` (sorted), but
    not fragments (``*.fragment.yaml``: they are included, never run alone).

    A path that does not exist, or a folder without scenarios, is an error: a typo in a CI
    script must not turn into a green run of nothing.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            files = sorted(
                p
                for p in path.rglob("*")
                if p.suffix in SUFFIXES and p.is_file() and not include.is_fragment(p)
            )
            if not files:
                raise ScenarioError(
                    "no *.yaml or *.yml scenario files in this folder", file=str(path)
                )
            found += files
        elif path.is_file():
            found.append(path)
        else:
            raise ScenarioError("no such file or folder", file=str(path))
    return list(dict.fromkeys(found))


def parse_var(text: str) -> tuple[str, str]:
    """``--var bugs=no-restart`` → ``("bugs", "no-restart")``; the value may be empty."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ScenarioError(f"--var expects KEY=VALUE, got {text!r}")
    if not NAME.fullmatch(key) or "." in key:
        raise ScenarioError(
            f"--var {text!r}: {key!r} is not a var name (letters, digits, '_' and '-')"
        )
    return key, value


def with_overrides(
    scenario: Scenario, *, repeat: int | None = None, variables: Mapping[str, str] = _EMPTY
) -> Scenario:
    """A copy with ``--repeat`` and ``--var`` applied (only vars the scenario declares).

    New var values are validated as the file was: a scenario from the loader is validated
    again with them (a templated duration or URL may now be wrong), so ``chaos matrix``
    refuses a value that ``chaos validate --var`` would. Raises ``ScenarioError``.
    """
    if repeat is not None and repeat < 1:
        raise ScenarioError(f"--repeat expects a whole number of at least 1, got {repeat}")
    declared = {k: v for k, v in variables.items() if k in scenario.vars and scenario.vars[k] != v}
    source = scenario._source
    if declared and isinstance(source, _Source):
        again, errors = _validate(
            source.data, source.file, source.lines, {**scenario.vars, **declared}, source.kinds
        )
        if errors:
            raise errors[0]
        assert again is not None
        return again.model_copy(update={"repeat": scenario.repeat if repeat is None else repeat})
    update: dict[str, Any] = {}
    if repeat is not None:
        update["repeat"] = repeat
    if declared:
        update["vars"] = {**scenario.vars, **declared}
    return scenario.model_copy(update=update) if update else scenario


# --------------------------------------------------------------------------- the pipeline


def scenario_from_mapping(
    data: Mapping[str, Any],
    overrides: Mapping[str, str] = _EMPTY,
    *,
    file: str = "",
    kinds: Kinds,
) -> Scenario:
    """A scenario written as a Python mapping (the pytest plugin's ``chaos_system({...})``).

    Same checks as a file, without lines; ``name`` defaults to ``inline``.
    """
    body = {"name": Path(file).stem if file else "inline", **data}
    scenario, errors = _validate(body, file, LineMap(), overrides, kinds)
    if errors:
        raise errors[0]
    assert scenario is not None
    return scenario


@dataclass(frozen=True)
class _Source:
    """What validated a scenario, kept on it to validate it again with other vars."""

    data: dict[Any, Any]
    file: str
    lines: LineMap
    kinds: Kinds


def _load(
    path: Path,
    overrides: Mapping[str, str],
    kinds: Kinds,
) -> tuple[Scenario | None, list[ScenarioError]]:
    file = str(path)
    try:
        text = read_source(path)
    except SourceError as exc:
        return None, [ScenarioError(exc.message, file=file, line=exc.line, column=exc.column)]
    except OSError as exc:
        return None, [ScenarioError(f"cannot read the file ({exc.strerror})", file=file)]
    try:
        data, lines = parse(text)
    except yaml.YAMLError as exc:
        message, line = yaml_problem(exc)
        return None, [ScenarioError(message, file=file, line=line)]
    if data is None:
        message = "the file is empty; expected a mapping with at least system: {command: [...]}"
        return None, [ScenarioError(message, file=file, line=1)]
    if not isinstance(data, dict):
        message = f"expected a mapping of scenario fields at the top level, got {describe(data)}"
        return None, [ScenarioError(message, file=file, line=1)]
    if "file" in data:
        message = "'file' is set by the harness to the scenario's path; remove it"
        return None, [
            ScenarioError(message, file=file, line=lines.line_of(("file",)), field="file")
        ]
    try:
        data, lines = include.expand(data, lines, file)
    except include.IncludeError as exc:
        return None, [ScenarioError(exc.message, file=exc.file, line=exc.line, field=exc.field)]
    body = {"name": Path(path).stem, **data}
    return _validate(body, file, lines, overrides, kinds)


def _validate(
    data: dict[Any, Any],
    file: str,
    lines: LineMap,
    overrides: Mapping[str, str],
    kinds: Kinds,
) -> tuple[Scenario | None, list[ScenarioError]]:
    variables, vars_known = effective_vars(data.get("vars"), overrides)
    context = {TEMPLATES: vars_resolver(variables)}
    scenario, found, entries = _typed({**data, "file": file}, lines, kinds, context)
    written = frozenset(k for k in data if isinstance(k, str))
    if scenario is not None:
        scenario = scenario.model_copy(update={"vars": variables})
        parts = from_scenario(scenario, written)
    else:
        faults, invariants, probes, workloads = entries
        parts = salvage(
            data,
            variables=variables,
            vars_known=vars_known,
            faults=faults,
            invariants=invariants,
            probes=probes,
            workloads=workloads,
            context=context,
        )
    found += _cross_problems(parts, kinds)
    errors = located(found, file, lines, data)
    if errors or scenario is None:
        return None, errors
    scenario._lines = lines
    scenario._source = _Source(data, file, lines, kinds)
    return scenario, []


def _cross_problems(parts: Parts, kinds: Kinds) -> list[Problem]:
    return [
        *checks.name_problems(parts),
        *checks.var_problems(parts),
        *checks.duplicate_problems(parts),
        *checks.expect_exit_problems(parts, kinds),
        *checks.reference_problems(parts, kinds),
        *checks.template_problems(parts),
        *preflight_problems(parts),
        *timing_problems(parts),
        *requires_problems(parts),
    ]


def _typed(
    data: dict[Any, Any], lines: LineMap, kinds: Kinds, context: Mapping[str, Any]
) -> tuple[
    Scenario | None,
    list[Problem],
    tuple[
        list[FaultEntry],
        list[InvariantEntry],
        dict[Any, ProbeEntry],
        list[tuple[int, WorkloadSpec]],
    ],
]:
    found: list[Problem] = []
    fault_list, more = fault_entries(data.get("faults"), kinds.faults, lines, context)
    found += more
    invariant_list, more = invariant_entries(
        data.get("invariants"), kinds.invariants, lines, context
    )
    found += more
    probe_map, more = probe_entries(data.get("probes"), kinds.probes, lines, context)
    found += more
    workloads, more = workload_entries(data.get("workload"), kinds.workloads, context)
    found += more
    entries = (fault_list, invariant_list, probe_map, workloads or [])
    body = {**data, "faults": fault_list, "invariants": invariant_list, "probes": probe_map}
    if workloads is not None:
        body["workload"] = [spec for _, spec in workloads]
    try:
        scenario = Scenario.model_validate(body, context=context)
    except ValidationError as exc:
        return None, found + problems_from(exc, Scenario, body), entries
    return (None if found else scenario), found, entries

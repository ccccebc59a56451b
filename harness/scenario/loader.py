"""Scenario files → validated ``Scenario`` models, every error located as file:line: field.

Loading is a pipeline of checks, each returning ``Problem``s rather than raising, so
``chaos validate`` can list every problem of a file (``problems``) while ``load_scenario``
raises the first one (by line) as a ``ScenarioError``. Order: YAML syntax, the top-level
shape, fault and invariant entries against their registries, the typed model, then the
cross-field checks (references, duplicates, templates).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from harness.errors import ScenarioError
from harness.scenario import checks
from harness.scenario.entries import fault_entries, invariant_entries, probe_entries
from harness.scenario.kinds import Kinds
from harness.scenario.messages import describe, problems_from
from harness.scenario.model import Scenario
from harness.scenario.requires import missing_requirements
from harness.scenario.selection import select as select_scenarios
from harness.scenario.source import LineMap, Problem, format_path, parse
from harness.scenario.templates import NAME

__all__ = [
    "discover",
    "load_all",
    "load_scenario",
    "missing_requirements",
    "parse_var",
    "problems",
    "scenario_from_mapping",
    "select_scenarios",
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
        if scenario.name in seen:
            raise ScenarioError(
                f"scenario name {scenario.name!r} is also used by {seen[scenario.name]}; "
                "names must be unique within a run",
                file=scenario.file,
                field="name",
            )
        seen[scenario.name] = scenario.file
        scenarios.append(scenario)
    return scenarios


def discover(paths: Sequence[Path]) -> list[Path]:
    """Files as given, folders searched recursively for ``*.yaml``/``*.yml`` (sorted).

    A path that does not exist, or a folder without scenarios, is an error: a typo in a CI
    script must not turn into a green run of nothing.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file())
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
    """A copy with ``--repeat`` and ``--var`` applied (only vars the scenario declares)."""
    if repeat is not None and repeat < 1:
        raise ScenarioError(f"--repeat expects a whole number of at least 1, got {repeat}")
    update: dict[str, Any] = {}
    if repeat is not None:
        update["repeat"] = repeat
    declared = {k: v for k, v in variables.items() if k in scenario.vars}
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


def _load(
    path: Path,
    overrides: Mapping[str, str],
    kinds: Kinds,
) -> tuple[Scenario | None, list[ScenarioError]]:
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None, [ScenarioError("not a UTF-8 text file", file=file)]
    except OSError as exc:
        return None, [ScenarioError(f"cannot read the file ({exc.strerror})", file=file)]
    try:
        data, lines = parse(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        what = exc.problem or exc.context or "malformed YAML"
        if exc.context and exc.context_mark and exc.context_mark.line + 1 != line:
            what += f" ({exc.context} started on line {exc.context_mark.line + 1})"
        return None, [ScenarioError(f"invalid YAML: {what}", file=file, line=line)]
    except yaml.YAMLError as exc:
        return None, [ScenarioError(f"invalid YAML: {exc}", file=file)]
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
    body = {"name": Path(path).stem, **data}
    return _validate(body, file, lines, overrides, kinds)


def _validate(
    data: dict[Any, Any],
    file: str,
    lines: LineMap,
    overrides: Mapping[str, str],
    kinds: Kinds,
) -> tuple[Scenario | None, list[ScenarioError]]:
    scenario, found = _typed({**data, "file": file}, lines, kinds)
    if scenario is not None:
        scenario = with_overrides(scenario, variables=overrides)
        found += checks.name_problems(scenario)
        found += checks.var_problems(scenario)
        found += checks.duplicate_problems(scenario)
        found += checks.reference_problems(scenario, kinds)
        found += checks.template_problems(scenario)
        found += checks.url_problems(scenario)
    errors = _located(found, file, lines)
    return (None if errors else scenario), errors


def _typed(
    data: dict[Any, Any], lines: LineMap, kinds: Kinds
) -> tuple[Scenario | None, list[Problem]]:
    found: list[Problem] = []
    fault_list, more = fault_entries(data.get("faults"), kinds.faults, lines)
    found += more
    invariant_list, more = invariant_entries(data.get("invariants"), kinds.invariants, lines)
    found += more
    probe_map, more = probe_entries(data.get("probes"), kinds.probes, lines)
    found += more
    body = {**data, "faults": fault_list, "invariants": invariant_list, "probes": probe_map}
    try:
        scenario = Scenario.model_validate(body)
    except ValidationError as exc:
        return None, found + problems_from(exc, Scenario, body)
    return (None if found else scenario), found


def _located(found: list[Problem], file: str, lines: LineMap) -> list[ScenarioError]:
    """Problems → errors with file, line and dotted field, in line order, deduplicated."""
    errors: dict[tuple[int, str, str], ScenarioError] = {}
    for problem in found:
        line = lines.line_of(problem.path)
        field = format_path(problem.path) or None
        key = (line or 0, field or "", problem.message)
        errors.setdefault(
            key, ScenarioError(problem.message, file=file or None, line=line, field=field)
        )
    return [errors[key] for key in sorted(errors, key=lambda k: k[0])]

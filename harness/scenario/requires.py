"""``requires: [exe...]``: executables a scenario needs, checked before it runs.

A missing one skips the scenario with the reason rather than failing it: the machine, not
the system under test, is what lacks it. An entry may use vars, ``{python}`` and
``{scenario_dir}`` (``"{vars.venv}/bin/uvicorn"``): known at load, so the check needs no
trial; any other template name is refused at load with its line.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

from harness.scenario.messages import suggest
from harness.scenario.model import Scenario
from harness.scenario.parts import Parts
from harness.scenario.source import Problem
from harness.scenario.templates import TemplateError, names_in, resolve, scenario_dir

PYTHON_NAMES = frozenset({"python", "python3"})
"""Resolved to the interpreter running the harness (``{python}``), not to ``PATH``."""


def _values(variables: Mapping[str, str], file: str) -> dict[str, str]:
    values = {"python": sys.executable, "scenario_dir": scenario_dir(file)}
    for key, value in variables.items():
        values[key] = values[f"vars.{key}"] = value
    return values


def required(scenario: Scenario) -> list[str]:
    """The ``requires`` entries with their templates resolved."""
    values = _values(scenario.vars, scenario.file)
    return [resolve(entry, values) for entry in scenario.requires]


def missing_requirements(scenario: Scenario) -> list[str]:
    """The required executables this machine lacks, in the scenario's order (resolved:
    a path, or a name looked up on ``PATH``)."""
    missing = []
    for exe in required(scenario):
        if exe in PYTHON_NAMES:
            found = bool(sys.executable) and Path(sys.executable).exists()
        else:
            found = shutil.which(exe) is not None
        if not found:
            missing.append(exe)
    return missing


def skip_reason(missing: list[str]) -> str:
    """Why a scenario is skipped, per entry: a name was looked for on ``PATH``, a path was
    looked for where it says (``requires x (not found on PATH)``, ``requires /o/x (no
    executable there)``)."""
    names = [exe for exe in missing if "/" not in exe]
    paths = [exe for exe in missing if "/" in exe]
    parts = []
    if names:
        parts.append(", ".join(names) + " (not found on PATH)")
    if paths:
        parts.append(", ".join(paths) + " (no executable there)")
    return "requires " + "; ".join(parts)


def requires_problems(parts: Parts) -> list[Problem]:
    """A ``requires`` entry with a stray brace or a template name only a trial knows."""
    if not parts.vars_known:
        return []
    known = sorted(_values(parts.variables, ""))
    problems: list[Problem] = []
    for index, entry in parts.requires:
        try:
            names = names_in(entry)
        except TemplateError as exc:
            problems.append(Problem(("requires", index), str(exc), exc.offset))
            continue
        for name in sorted(names - set(known)):
            hint = suggest(name, known, lambda n: "{" + n + "}")
            problems.append(
                Problem(
                    ("requires", index),
                    f"undefined template name {{{name}}}{hint} in {entry!r}; requires is "
                    "checked before a trial, so it can use only vars, {python} and "
                    "{scenario_dir}",
                )
            )
    return problems

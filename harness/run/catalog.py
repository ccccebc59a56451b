"""Every kind the harness ships, and the scenario loader bound to them.

The scenario layer validates against whatever kinds it is handed and imports none of them;
this is where the real registries meet it. The CLI, the pytest plugin and the Python API
load scenarios through these functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.errors import ScenarioError
from harness.faults.registry import FAULTS
from harness.invariants.registry import INVARIANTS
from harness.observe.probes.registry import PROBES
from harness.scenario import loader
from harness.scenario.kinds import Kinds
from harness.scenario.model import Scenario
from harness.workload.registry import WORKLOADS

KINDS = Kinds(faults=FAULTS, invariants=INVARIANTS, probes=PROBES, workloads=WORKLOADS)
_EMPTY: Mapping[str, str] = {}


def load_scenario(path: Path, overrides: Mapping[str, str] = _EMPTY) -> Scenario:
    """One scenario file, validated against every shipped kind."""
    return loader.load_scenario(path, overrides, kinds=KINDS)


def load_all(paths: Sequence[Path], overrides: Mapping[str, str] = _EMPTY) -> list[Scenario]:
    """Every scenario under ``paths`` (files or folders); names unique within the run."""
    return loader.load_all(paths, overrides, kinds=KINDS)


def problems(path: Path, overrides: Mapping[str, str] = _EMPTY) -> list[ScenarioError]:
    """Every problem of one file, in line order (empty: valid)."""
    return loader.problems(path, overrides, kinds=KINDS)


def scenario_from_mapping(
    data: Mapping[str, Any], overrides: Mapping[str, str] = _EMPTY
) -> Scenario:
    """A scenario written as a Python mapping (``chaos_system({...})``)."""
    return loader.scenario_from_mapping(data, overrides, kinds=KINDS)

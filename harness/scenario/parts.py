"""The parts of a scenario the cross-field checks read, also when the whole does not validate.

``chaos validate`` lists every problem of a file in one round: a misspelt role in a fault is
worth reporting while a duration elsewhere is malformed. So the checks read ``Parts``: from
the typed scenario when it validated, else salvaged piece by piece from the raw data (each
section validated alone, the pieces that pass kept with their index, and the names a
section defines read from the raw data even where its values are bad). A check that needs
a part that did not survive says nothing: that part's own error is already reported.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from harness.scenario.model import (
    FaultEntry,
    InvariantEntry,
    PhasesSpec,
    ProbeEntry,
    ProxySpec,
    Scenario,
    SystemSpec,
    WorkloadSpec,
    var_text,
)
from harness.scenario.source import Path_
from harness.spec.units import Duration

_DURATION: TypeAdapter[float] = TypeAdapter(Duration)
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Parts:
    """What survived validation, by section; names as the file defines them."""

    name: str | None = None
    variables: Mapping[str, str] = field(default_factory=dict)
    """Every var with its value (declared, then ``--var``)."""
    vars_known: bool = True
    """False when ``vars`` itself is malformed: names cannot be checked against it."""
    system: SystemSpec | None = None
    roles: list[str] = field(default_factory=list)
    role_ready_probes: list[tuple[str, str]] = field(default_factory=list)
    """(role, probe) for every role whose readiness is a probe reading."""
    role_refs: list[tuple[Path_, str]] = field(default_factory=list)
    """Where a role names another (``forked_from``, ``system.ready.roles``), and the name."""
    proxies: dict[str, ProxySpec] = field(default_factory=dict)
    proxy_names: list[str] = field(default_factory=list)
    disk_names: list[str] = field(default_factory=list)
    probes: dict[str, ProbeEntry] = field(default_factory=dict)
    probe_names: list[str] = field(default_factory=list)
    workloads: list[tuple[int, WorkloadSpec]] = field(default_factory=list)
    workload_names: list[tuple[int, str]] = field(default_factory=list)
    faults: list[FaultEntry] = field(default_factory=list)
    invariants: list[InvariantEntry] = field(default_factory=list)
    timeout: float | None = None
    duration: float | None = None
    phases: PhasesSpec | None = None
    requires: list[tuple[int, str]] = field(default_factory=list)
    """Every ``requires`` entry as written, with its index."""
    written: frozenset[str] = frozenset()
    """Top-level fields the file writes (a check names the one the author chose)."""

    def roots(self) -> Iterator[tuple[Path_, BaseModel]]:
        """Every part that holds template strings, with its path in the YAML."""
        if self.system is not None:
            yield ("system",), self.system
        for name, proxy in self.proxies.items():
            yield ("proxies", name), proxy
        for name, probe in self.probes.items():
            yield ("probes", name), probe
        for index, workload in self.workloads:
            yield ("workload", index), workload
        for fault in self.faults:
            yield ("faults", fault.index), fault
        for invariant in self.invariants:
            yield ("invariants", invariant.index), invariant


def effective_vars(raw: Any, overrides: Mapping[str, str]) -> tuple[dict[str, str], bool]:
    """The vars as templates will see them: declared scalars as text, then the overrides
    of declared names. False with them when ``vars`` is not a mapping."""
    if raw is None:
        return {}, True
    if not isinstance(raw, dict):
        return {}, False
    found: dict[str, str] = {}
    for key, value in raw.items():
        text = var_text(value)
        if isinstance(key, str) and isinstance(text, str):
            found[key] = text
    found.update({k: v for k, v in overrides.items() if k in raw})
    return found, True


def from_scenario(scenario: Scenario, written: frozenset[str]) -> Parts:
    """The parts of a scenario that validated as a whole."""
    return Parts(
        name=scenario.name,
        variables=dict(scenario.vars),
        system=scenario.system,
        roles=list(scenario.roles),
        role_ready_probes=[
            (name, role.ready.probe)
            for name, role in scenario.roles.items()
            if role.ready is not None and role.ready.probe is not None
        ],
        role_refs=_role_refs(scenario.model_dump(include={"roles", "system"}, by_alias=True)),
        proxies=dict(scenario.proxies),
        proxy_names=list(scenario.proxies),
        disk_names=list(scenario.disks),
        probes=dict(scenario.probes),
        probe_names=list(scenario.probes),
        workloads=list(enumerate(scenario.workload)),
        requires=list(enumerate(scenario.requires)),
        workload_names=[(i, w.name) for i, w in enumerate(scenario.workload)],
        faults=list(scenario.faults),
        invariants=list(scenario.invariants),
        timeout=scenario.timeout,
        duration=scenario.duration,
        phases=scenario.phases,
        written=written,
    )


def salvage(
    data: Mapping[Any, Any],
    *,
    variables: Mapping[str, str],
    vars_known: bool,
    faults: list[FaultEntry],
    invariants: list[InvariantEntry],
    probes: dict[Any, ProbeEntry],
    workloads: list[tuple[int, WorkloadSpec]],
    context: Mapping[str, Any],
) -> Parts:
    """The parts of a scenario that did not validate as a whole: each section alone."""
    name = data.get("name")
    workload = data.get("workload")
    items = list(enumerate(workload)) if isinstance(workload, list) else []
    requires = data.get("requires")
    return Parts(
        name=name if isinstance(name, str) else None,
        variables=variables,
        vars_known=vars_known,
        system=_valid(SystemSpec, data.get("system"), context),
        roles=_names(data.get("roles")),
        role_ready_probes=_ready_probes(data.get("roles")),
        role_refs=_role_refs(data),
        proxies=_valid_each(ProxySpec, data.get("proxies"), context),
        proxy_names=_names(data.get("proxies")),
        disk_names=_names(data.get("disks")),
        probes={k: v for k, v in probes.items() if isinstance(k, str)},
        probe_names=_names(data.get("probes")),
        workloads=workloads,
        requires=[
            (i, item)
            for i, item in enumerate(requires if isinstance(requires, list) else [])
            if isinstance(item, str)
        ],
        workload_names=[
            (i, item["name"])
            for i, item in items
            if isinstance(item, dict) and isinstance(item.get("name"), str)
        ],
        faults=faults,
        invariants=invariants,
        timeout=_duration(data, "timeout", 60.0, context),
        duration=_duration(data, "duration", 5.0, context),
        phases=_valid(PhasesSpec, data.get("phases"), context),
        written=frozenset(k for k in data if isinstance(k, str)),
    )


def _valid(model: type[M], raw: Any, context: Mapping[str, Any]) -> M | None:
    if not isinstance(raw, dict):
        return None
    try:
        return model.model_validate(raw, context=context)
    except ValidationError:
        return None


def _valid_each(model: type[M], raw: Any, context: Mapping[str, Any]) -> dict[str, M]:
    """The entries of a name → spec section that validate alone, by name."""
    if not isinstance(raw, dict):
        return {}
    found = {k: _valid(model, v, context) for k, v in raw.items() if isinstance(k, str)}
    return {k: v for k, v in found.items() if v is not None}


def _names(raw: Any) -> list[str]:
    return [k for k in raw if isinstance(k, str)] if isinstance(raw, dict) else []


def _duration(
    data: Mapping[Any, Any], key: str, default: float, context: Mapping[str, Any]
) -> float | None:
    if key not in data:
        return default
    try:
        return _DURATION.validate_python(data[key], context=dict(context))
    except ValidationError:
        return None


def _ready_probes(raw: Any) -> list[tuple[str, str]]:
    """(role, probe) pairs a raw ``roles`` mapping names in ``ready: {probe: ...}``."""
    if not isinstance(raw, dict):
        return []
    found: list[tuple[str, str]] = []
    for name, role in raw.items():
        ready = role.get("ready") if isinstance(role, dict) else None
        probe = ready.get("probe") if isinstance(ready, dict) else None
        if isinstance(name, str) and isinstance(probe, str):
            found.append((name, probe))
    return found


def _role_refs(data: Mapping[Any, Any]) -> list[tuple[Path_, str]]:
    """Every role name that ``roles.*.forked_from`` and ``system.ready.roles`` use."""
    found: list[tuple[Path_, str]] = []
    roles = data.get("roles")
    for name, role in roles.items() if isinstance(roles, dict) else []:
        parent = role.get("forked_from") if isinstance(role, dict) else None
        if isinstance(name, str) and isinstance(parent, str):
            found.append((("roles", name, "forked_from"), parent))
    system = data.get("system")
    ready = system.get("ready") if isinstance(system, dict) else None
    counts = ready.get("roles") if isinstance(ready, dict) else None
    for name in counts if isinstance(counts, dict) else []:
        if isinstance(name, str):
            found.append((("system", "ready", "roles", name), name))
    return found

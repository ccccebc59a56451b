"""Tiny fault, invariant and probe registries: the loader tested without the real kinds.

They mirror the kinds of the scenario-format contract closely enough to exercise every
loader path: role/workload/probe references, aliases (``for``), signals, fractions,
all-default specs and ``template_extras``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from harness.scenario.kinds import Kinds
from harness.spec.http import HttpCall
from harness.spec.kinds import FaultSpec, InvariantSpec, ProbeSpec, WorkloadKindSpec
from harness.spec.regex import Regex
from harness.spec.registry import Registry
from harness.spec.signals import Signal
from harness.spec.units import Duration, Fraction


class KillSpec(FaultSpec):
    role: str
    signal: Signal = 9
    count: int | Literal["all"] = 1
    which: Literal["random", "oldest", "newest"] = "random"


class FreezeSpec(FaultSpec):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)
    role: str | None = None
    for_: Duration = Field(alias="for")


class SquatPortSpec(FaultSpec):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)
    port: str
    for_: Duration | None = Field(default=None, alias="for")  # none: until teardown


class RequestSpec(FaultSpec):
    url: str
    method: str = "GET"
    count: int = 1


class RecoversSpec(InvariantSpec):
    role: str
    within: Duration = 2.0


class RestartsSpec(InvariantSpec):
    role: str
    max: int


class AvailabilitySpec(InvariantSpec):
    workload: str
    min: Fraction = 1.0


class ProbeCheckSpec(InvariantSpec):
    name: str
    path: str
    equals: Any = None
    at: Literal["start", "end", "always"] = "end"


class EmptySpec(InvariantSpec):
    pass


class NoOrphansSpec(InvariantSpec):
    within: Duration = 2.0


class LedgerSpec(InvariantSpec):
    template_extras: ClassVar[dict[str, frozenset[str]]] = {"lookup": frozenset({"id"})}
    workload: str
    lookup: str
    settle: Duration = 5.0


class LogSpec(InvariantSpec):
    absent: Regex


class HttpProbe(HttpCall, ProbeSpec):
    pass


class HttpWorkload(HttpCall, WorkloadKindSpec):
    keep_alive: bool = False
    connections: int = 8


class TcpWorkload(WorkloadKindSpec):
    port: str
    expect: Regex


@dataclass(frozen=True)
class Kind:
    """What the loader knows of a kind: its name, options model and references."""

    name: str
    spec: type[BaseModel]
    refs: Mapping[str, str] = field(default_factory=dict)
    after_exit: bool = False
    statuses: bool = True


def _registry(what: str, kinds: list[Kind]) -> Registry[Kind]:
    registry: Registry[Kind] = Registry(what)
    for kind in kinds:
        registry.register(kind.name, kind)
    return registry


def make_kinds() -> Kinds:
    """Fault, invariant and probe kinds shaped like the real ones, with no behaviour."""
    role = {"role": "role"}
    faults = [
        Kind("kill", KillSpec, role),
        Kind("freeze", FreezeSpec, role),
        Kind("squat_port", SquatPortSpec),
        Kind("request", RequestSpec),
    ]
    invariants = [
        Kind("recovers", RecoversSpec, role),
        Kind("restarts", RestartsSpec, role),
        Kind("availability", AvailabilitySpec, {"workload": "workload"}),
        Kind("probe", ProbeCheckSpec, {"name": "probe"}),
        Kind("alive", RecoversSpec, role),
        Kind("distinct_ports", EmptySpec),
        Kind("no_orphans", NoOrphansSpec, after_exit=True),
        Kind("ledger", LedgerSpec, {"workload": "workload"}),
        Kind("log", LogSpec, after_exit=True),
    ]
    return Kinds(
        faults=_registry("fault kind", faults),
        invariants=_registry("invariant kind", invariants),
        probes=_registry("probe kind", [Kind("http", HttpProbe)]),
        workloads=_registry(
            "workload kind",
            [Kind("http", HttpWorkload), Kind("tcp", TcpWorkload, statuses=False)],
        ),
    )

"""Tiny fault and invariant registries, so the loader is tested without the real kinds.

They mirror the kinds of the scenario-format contract closely enough to exercise every
loader path: role/workload/probe references, aliases (``for``), signals, fractions,
all-default specs and ``template_extras``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import ConfigDict, Field

from harness.faults.base import FaultKind
from harness.invariants.base import Checker, History
from harness.spec.kinds import FaultSpec, InvariantSpec
from harness.spec.regex import Regex
from harness.spec.registry import Registry
from harness.spec.signals import Signal
from harness.spec.units import Duration, Fraction
from harness.spec.verdict import InvariantResult


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
    port: str


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


def _inject(*_: object) -> None:
    raise AssertionError("the loader must never inject")


def _check(spec: Any, history: History) -> InvariantResult:
    raise AssertionError("the loader must never check")


def make_faults() -> Registry[FaultKind]:
    registry: Registry[FaultKind] = Registry("fault kind")
    for name, spec, refs in [
        ("kill", KillSpec, {"role": "role"}),
        ("freeze", FreezeSpec, {"role": "role"}),
        ("squat_port", SquatPortSpec, {}),
        ("request", RequestSpec, {}),
    ]:
        registry.register(name, FaultKind(name, spec, _inject, refs))
    return registry


def make_invariants() -> Registry[Checker]:
    registry: Registry[Checker] = Registry("invariant kind")
    for name, spec, refs in [
        ("recovers", RecoversSpec, {"role": "role"}),
        ("restarts", RestartsSpec, {"role": "role"}),
        ("availability", AvailabilitySpec, {"workload": "workload"}),
        ("probe", ProbeCheckSpec, {"name": "probe"}),
        ("alive", RecoversSpec, {"role": "role"}),
        ("distinct_ports", EmptySpec, {}),
        ("no_orphans", NoOrphansSpec, {}),
        ("ledger", LedgerSpec, {"workload": "workload"}),
        ("log", LogSpec, {}),
    ]:
        registry.register(name, Checker(name, spec, _check, refs=refs))
    return registry

"""The option bases of every extension point: a fault, an invariant, a probe, a workload.

Each registered kind validates its YAML options with a subclass of one of these. They live
on the ground floor so the scenario model can hold any kind's options without importing
the packages that implement them. Types are strict, as in ``harness.spec.base.Frozen``: a
kind's ``count: true`` is refused, never read as 1 (a subclass's own ``model_config`` is
merged with this one, so it stays strict).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class FaultSpec(BaseModel):
    """Base of every fault's options: frozen, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class InvariantSpec(BaseModel):
    """Base of every invariant's options: frozen, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class ProbeSpec(BaseModel):
    """Base of every probe kind's options (``http: {url...}``): frozen, unknown refused."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class WorkloadKindSpec(BaseModel):
    """Base of every workload kind's options (``tcp: {port...}``): frozen, unknown refused."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

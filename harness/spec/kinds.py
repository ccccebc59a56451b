"""The option bases of every extension point: a fault, an invariant, a probe.

Each registered kind validates its YAML options with a subclass of one of these. They live
on the ground floor so the scenario model can hold any kind's options without importing
the packages that implement them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class FaultSpec(BaseModel):
    """Base of every fault's options: frozen, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class InvariantSpec(BaseModel):
    """Base of every invariant's options: frozen, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class ProbeSpec(BaseModel):
    """Base of every probe kind's options (``http: {url...}``): frozen, unknown refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")

"""What the loader needs to know of the registered kinds: names, option models, references.

The scenario layer sits below the packages that implement faults, invariants, probes and
workloads, so it never imports them: whoever loads a scenario hands it the registries as ``Kinds``
(``harness.run.catalog`` does, with every kind the harness ships).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from pydantic import BaseModel


class KindInfo(Protocol):
    """One registered kind, as far as validation is concerned."""

    @property
    def name(self) -> str: ...

    @property
    def spec(self) -> type[BaseModel]: ...

    @property
    def refs(self) -> Mapping[str, str]:
        """Spec fields that name a role, workload or probe of the scenario."""
        ...


class KindLookup(Protocol):
    """A registry of kinds by name (``harness.spec.registry.Registry`` is one)."""

    def __contains__(self, name: object) -> bool: ...

    def get(self, name: str) -> KindInfo: ...

    def names(self) -> list[str]: ...


@dataclass(frozen=True)
class Kinds:
    """The kinds a scenario may use, one lookup per extension point."""

    faults: KindLookup
    invariants: KindLookup
    probes: KindLookup
    workloads: KindLookup

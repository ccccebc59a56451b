"""The contract of a probe kind: ``read(spec, resolve, instance) -> Reading``.

A probe kind turns its options into one reading of one instance; the poller decides when
(``every``) and records each reading as a ``ProbeResult``. Invariants decide what a reading
means, so a kind only reports what it saw: ok or not, a status, a decoded value, an error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from harness.spec.kinds import ProbeSpec

S = TypeVar("S", bound=ProbeSpec)

Resolve = Callable[[str, int], str]
"""``resolve(template, instance)``: the trial's template expansion."""


@dataclass(frozen=True)
class Reading:
    """One reading: ``ok`` by the kind's own rule, and what came back."""

    ok: bool
    status: int | None = None
    value: object = None
    error: str | None = None
    latency_s: float = 0.0


@dataclass(frozen=True)
class ProbeKind(Generic[S]):
    """A registered probe kind: its name in YAML, its options model, how it reads."""

    name: str
    spec: type[S]
    read: Callable[[S, Resolve, int], Reading]
    timeout: Callable[[S], float]
    """How long one reading may take at most (a stop waits this long for one in flight)."""
    refs: Mapping[str, str] = field(default_factory=dict)
    """Spec fields that name something in the scenario, checked at load time."""

    def take(self, spec: ProbeSpec, resolve: Resolve, instance: int) -> Reading:
        """Read with options validated by this kind's own model (the loader made them)."""
        return self.read(self._own(spec), resolve, instance)

    def longest(self, spec: ProbeSpec) -> float:
        """The longest one reading of ``spec`` may take."""
        return self.timeout(self._own(spec))

    def _own(self, spec: ProbeSpec) -> S:
        if not isinstance(spec, self.spec):
            raise TypeError(f"probe kind {self.name!r} got {type(spec).__name__} options")
        return spec


class ProbePlugin(Protocol):
    """Any registered probe kind, whatever its spec type: what the registry holds."""

    @property
    def name(self) -> str: ...

    @property
    def spec(self) -> type[ProbeSpec]: ...

    @property
    def refs(self) -> Mapping[str, str]: ...

    def take(self, spec: ProbeSpec, resolve: Resolve, instance: int) -> Reading: ...

    def longest(self, spec: ProbeSpec) -> float: ...

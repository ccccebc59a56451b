"""The contract of a workload kind: ``open(spec, target) -> Client``; ``client.call() -> Answer``.

A kind turns its options into a client of one instance, the way a real client of that
system talks to it: a connection per request, a pool of kept-alive connections, a program
of the user's own per request. The engine (``harness.workload.engine``) decides when to
call, open loop at the workload's rate, and records every outcome as a ``Request``; a kind
only says what one request saw. Availability, latency and the ledger read those records
the same way whatever the kind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from harness.spec.kinds import WorkloadKindSpec

S = TypeVar("S", bound=WorkloadKindSpec)


@dataclass(frozen=True)
class Target:
    """One instance a client talks to: its number and the trial's template expansion."""

    instance: int
    resolve: Callable[[str], str]
    """Template expansion with this instance's values (``{port}`` of instance 1...)."""


@dataclass(frozen=True)
class Answer:
    """What one request saw, before the workload's success rule.

    ``status`` is the kind's status (an HTTP status, an exit code) when there is one, and
    ``error`` says why there is none (``connection refused``, ``timeout after 2s``) or why
    the answer is wrong (``reply did not match``). ``value`` is the answer (decoded JSON,
    named groups of a pattern, or text), ``structured`` whether ``record`` can pick a field
    out of it.
    """

    status: int | None = None
    error: str | None = None
    value: Any = None
    structured: bool = False
    ok: bool | None = None
    """The kind's own verdict when it has no statuses (``tcp``: the reply matched);
    ``None``: the workload's ``ok_status`` (or the kind's default statuses) decides."""


class Client(Protocol):
    """A client of one instance; ``call`` is called from many threads at once."""

    def call(self) -> Answer:
        """One request, bounded by the kind's timeout; never raises for what the system does."""
        ...

    def close(self) -> None:
        """Give everything back (connections, running programs); idempotent."""
        ...


@dataclass(frozen=True)
class WorkloadKind(Generic[S]):
    """A registered workload kind: its name in YAML, its options model, how it connects."""

    name: str
    spec: type[S]
    open: Callable[[S, Target], Client]
    """A client of one instance; ``ValueError`` for a target it refuses (not loopback)."""
    ok_default: Callable[[int], bool] | None
    """Which statuses count as success by default (``None``: the kind has no statuses,
    its ``Answer.ok`` decides and ``ok_status`` is refused at load)."""
    refs: Mapping[str, str] = field(default_factory=dict)
    """Spec fields that name something in the scenario, checked at load time."""

    def connect(self, spec: WorkloadKindSpec, target: Target) -> Client:
        """A client with options validated by this kind's own model (the loader made them)."""
        if not isinstance(spec, self.spec):
            raise TypeError(f"workload kind {self.name!r} got {type(spec).__name__} options")
        return self.open(spec, target)

    @property
    def statuses(self) -> bool:
        """Whether ``ok_status`` means anything for this kind."""
        return self.ok_default is not None


class WorkloadPlugin(Protocol):
    """Any registered workload kind, whatever its spec type: what the registry holds."""

    @property
    def name(self) -> str: ...

    @property
    def spec(self) -> type[WorkloadKindSpec]: ...

    @property
    def refs(self) -> Mapping[str, str]: ...

    @property
    def ok_default(self) -> Callable[[int], bool] | None: ...

    @property
    def statuses(self) -> bool: ...

    def connect(self, spec: WorkloadKindSpec, target: Target) -> Client: ...

"""The contract of a checker: ``check(spec, history) -> InvariantResult``, nothing else.

Checkers never touch the system: they read a ``History`` (the recorded events plus the few
scenario facts needed to interpret them), so they are unit-tested on recorded timelines and
can re-judge an old journal. A checker that needs an end-of-trial observation (the ledger's
lookups) declares it through ``collect``, which the runner calls before teardown; what it
observes is recorded as events, and ``check`` still reads only the history.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from harness.observe.events import Event
from harness.observe.timeline import Timeline
from harness.scenario.model import RoleReadySpec
from harness.spec.kinds import InvariantSpec
from harness.spec.verdict import InvariantResult

E = TypeVar("E", bound=Event)


@dataclass(frozen=True)
class RoleFacts:
    """What the scenario says about a role: expected live count when healthy, root or not,
    and how one of its processes shows it is ready (``recovers``' ready phase)."""

    count: int | None = None
    root: bool = False
    ready: RoleReadySpec | None = None


@dataclass(frozen=True)
class History:
    """One trial's recorded events and the scenario facts needed to read them."""

    events: Sequence[Event]
    roles: dict[str, RoleFacts] = field(default_factory=dict)
    instances: int = 1
    probes: tuple[str, ...] = ()
    workloads: tuple[str, ...] = ()

    def of(self, kind: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, kind)]

    @property
    def end(self) -> float:
        """Time of the last event (the end of the recorded trial)."""
        return max((e.t for e in self.events), default=0.0)


class CollectContext(Protocol):
    """What an end-of-trial collector may use (implemented by the runner's trial context).

    It can read the timeline, record on it, resolve templates and make HTTP calls to the
    system; it cannot signal processes.
    """

    @property
    def timeline(self) -> Timeline: ...

    @property
    def deadline(self) -> float:
        """``time.monotonic()`` reading by which the collector must have returned."""
        ...

    @property
    def settle_started(self) -> float:
        """``time.monotonic()`` reading when traffic stopped. Every collector's ``settle``
        window counts from there, so two ledgers wait side by side, not one after the other
        (the load check fits the longest ``settle`` in the timeout, not their sum)."""
        ...

    def resolve(self, template: str, instance: int = 0) -> str:
        """Expand ``{port}``, ``{run_dir}``, ``{ready.X}``... for one instance."""
        ...

    def http_json(
        self, method: str, url: str, timeout: float
    ) -> tuple[int | None, object, str | None]:
        """``(status, decoded body, error)``; ``status`` is ``None`` when no answer came."""
        ...


S = TypeVar("S", bound=InvariantSpec)


@dataclass(frozen=True)
class Checker(Generic[S]):
    """A registered invariant kind: its options model, its check, its optional collector.

    ``check(spec, history)`` judges a recorded trial; ``collect(spec, ctx)`` (optional)
    makes an end-of-trial observation before teardown and records it as events.
    """

    name: str
    spec: type[S]
    check: Callable[[S, History], InvariantResult]
    collect: Callable[[S, CollectContext], None] | None = None
    refs: Mapping[str, str] = field(default_factory=dict)
    """Spec fields that name something in the scenario, checked at load time:
    field name → ``"role"``, ``"workload"`` or ``"probe"``."""
    after_exit: bool = False
    """Whether it can judge a system that was meant to exit (``system.expect_exit``: never
    ready, no probes, no faults after start). Only such kinds may go with one."""

    @property
    def collects(self) -> bool:
        """Whether this kind needs an end-of-trial observation."""
        return self.collect is not None

    def judge(self, spec: InvariantSpec, history: History) -> InvariantResult:
        """Check with options validated by this kind's own model (the loader made them)."""
        return self.check(self._own(spec), history)

    def observe_end(self, spec: InvariantSpec, ctx: CollectContext) -> None:
        """Run the end-of-trial collector, if this kind has one."""
        if self.collect is not None:
            self.collect(self._own(spec), ctx)

    def _own(self, spec: InvariantSpec) -> S:
        if not isinstance(spec, self.spec):
            raise TypeError(f"invariant {self.name!r} got {type(spec).__name__} options")
        return spec


class InvariantPlugin(Protocol):
    """Any registered invariant kind, whatever its spec type: what the registry holds."""

    @property
    def name(self) -> str: ...

    @property
    def spec(self) -> type[InvariantSpec]: ...

    @property
    def refs(self) -> Mapping[str, str]: ...

    @property
    def collects(self) -> bool: ...

    @property
    def after_exit(self) -> bool: ...

    def judge(self, spec: InvariantSpec, history: History) -> InvariantResult: ...

    def observe_end(self, spec: InvariantSpec, ctx: CollectContext) -> None: ...

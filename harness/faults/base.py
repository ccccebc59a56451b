"""The contract between the nemesis (scheduler) and one fault kind.

A fault kind is a pydantic ``spec`` model plus an ``inject`` function typed over that spec,
and the ``effects`` its actions may have on processes. The scheduler decides *when* (``at``,
``every``, ``before: start``, an event trigger); the fault decides *what* and records every
action as a ``FaultAction`` event carrying its ``Effect``, which is all checkers read. A
fault reaches processes only through ``FaultContext``, which only knows the trial's own
tree, so it cannot touch anything else on the machine.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from harness.disks import Disk
from harness.observe.events import Event
from harness.observe.timeline import Timeline
from harness.proxy import Proxy
from harness.spec.effects import Effect
from harness.spec.kinds import FaultSpec
from harness.system.limits import Limits
from harness.system.process import TrackedProcess

S = TypeVar("S", bound=FaultSpec)


class FaultContext(Protocol):
    """What a fault may use. Implemented by the run layer for one trial."""

    @property
    def timeline(self) -> Timeline: ...

    @property
    def rng(self) -> random.Random:
        """Seeded per trial: ``which: random`` is reproducible with ``--seed``."""
        ...

    @property
    def stopping(self) -> threading.Event:
        """Set when the trial is ending; long faults should return early."""
        ...

    def processes(
        self, role: str | None = None, instance: int | None = None
    ) -> list[TrackedProcess]:
        """Live processes of this trial's system, optionally of one role / instance."""
        ...

    def signal(self, process: TrackedProcess, signum: int) -> bool:
        """Send ``signum`` through the process's pidfd. False if it is already gone.

        Raises ``PermissionError`` for a process outside this trial's tree.
        """
        ...

    def resolve(self, template: str, instance: int = 0) -> str:
        """Expand ``{port}``, ``{run_dir}``, ``{ready.X}``... for one instance."""
        ...

    def later(self, delay: float, action: Callable[[], None]) -> None:
        """Run ``action`` after ``delay`` seconds (or at teardown, whichever is first)."""
        ...

    def proxy(self, name: str, instance: int = 0) -> Proxy:
        """The scenario's proxy ``name`` of one instance (``proxies:``); ``KeyError`` if none."""
        ...

    def disk(self, name: str, instance: int = 0) -> Disk:
        """The scenario's disk ``name`` of one instance (``disks:``); ``KeyError`` if none."""
        ...

    def on_teardown(self, action: Callable[[], None]) -> None:
        """Run ``action`` during teardown (release a squatted port, thaw a process)."""
        ...

    def limits(self) -> Limits:
        """This trial's resource-limit groups (``harness.system.limits``)."""
        ...


@dataclass(frozen=True)
class Firing:
    """One firing of a schedule step: which step, and what triggered it.

    ``index`` is the step's number in the trial's schedule (``harness.schedule``), what its
    actions record as ``fault``; for a schedule of single triggers, the entry's index.
    ``spawned`` is the process that fired an event trigger: the one whose appearance fired
    ``on_spawn``, or the one an ``on_log`` line names (its ``pid`` group). It is the fault's
    target; ``None`` for timed and ``before: start`` faults. ``event`` is the recorded event
    that fired an event trigger (the ``Request`` whose id was acknowledged, the log line,
    the probe reading, the ``ProcessStart``).
    """

    index: int
    spawned: TrackedProcess | None = None
    event: Event | None = None


@dataclass(frozen=True)
class FaultKind(Generic[S]):
    """A registered fault: its name in YAML, its options model, its action, its effects."""

    name: str
    spec: type[S]
    inject: Callable[[S, FaultContext, Firing], None]
    effects: frozenset[Effect]
    """Every effect its actions may record (``kill``: ends; ``freeze``: stops, resumes)."""
    refs: Mapping[str, str] = field(default_factory=lambda: {"role": "role"})
    """Spec fields that name something in the scenario (``"role"``), checked at load time."""
    family: str = "signals"
    """The family ``chaos doctor`` lists it under: ``signals``, ``ports``, ``requests``,
    ``network``, ``disk``... Kinds of one family need the same thing of the host."""
    available: Callable[[], str | None] = field(default=lambda: None)
    """``None`` when this host can inject it, else the reason (``needs root...``)."""

    @property
    def intent(self) -> Effect:
        """What a firing means to do to processes, for a miss recorded by the scheduler."""
        for effect in (Effect.ENDS, Effect.STOPS):
            if effect in self.effects:
                return effect
        return Effect.NONE

    def run(self, spec: FaultSpec, ctx: FaultContext, firing: Firing) -> None:
        """Inject with options validated by this kind's own model (the loader made them)."""
        if not isinstance(spec, self.spec):
            raise TypeError(f"fault {self.name!r} got {type(spec).__name__} options")
        self.inject(spec, ctx, firing)


class FaultPlugin(Protocol):
    """Any registered fault kind, whatever its spec type: what the registry holds."""

    @property
    def name(self) -> str: ...

    @property
    def spec(self) -> type[FaultSpec]: ...

    @property
    def effects(self) -> frozenset[Effect]: ...

    @property
    def intent(self) -> Effect: ...

    @property
    def refs(self) -> Mapping[str, str]: ...

    @property
    def family(self) -> str: ...

    @property
    def available(self) -> Callable[[], str | None]: ...

    def run(self, spec: FaultSpec, ctx: FaultContext, firing: Firing) -> None: ...

"""The contract between the nemesis (scheduler) and one fault kind.

A fault kind is a pydantic ``spec`` model plus an ``inject`` function. The scheduler decides
*when* (``at``, ``before: start``, ``on_spawn``); the fault decides *what* and records every
action as a ``FaultAction`` event. A fault reaches processes only through ``FaultContext``,
which only knows the trial's own tree, so it cannot touch anything else on the machine.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from harness.observe.timeline import Timeline
from harness.spec.kinds import FaultSpec
from harness.system.process import TrackedProcess


class FaultContext(Protocol):
    """What a fault may use. Implemented by the runner for one trial."""

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

    def on_teardown(self, action: Callable[[], None]) -> None:
        """Run ``action`` during teardown (release a squatted port, thaw a process)."""
        ...


Inject = Callable[[FaultSpec, FaultContext, int, TrackedProcess | None], None]
"""``inject(spec, ctx, fault_index, spawned)``; ``spawned`` is set for ``on_spawn`` triggers."""


@dataclass(frozen=True)
class FaultKind:
    """A registered fault: its name in YAML, its options model and its action."""

    name: str
    spec: type[FaultSpec]
    inject: Inject
    refs: dict[str, str] = field(default_factory=lambda: {"role": "role"})
    """Spec fields that name something in the scenario (``"role"``), checked at load time."""

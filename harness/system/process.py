"""A process of the system under test, as the tracker sees it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TrackedProcess:
    """One process in a trial's system tree.

    ``started`` is trial time when first seen; ``exited`` trial time when its end was seen.
    ``pidfd`` is held for the process's life so signals can never hit a recycled pid.
    """

    pid: int
    ppid: int
    instance: int
    role: str | None
    cmdline: list[str]
    started: float
    root: bool = False
    exited: float | None = None
    frozen: bool = False
    pidfd: int | None = field(default=None, repr=False)

    @property
    def alive(self) -> bool:
        return self.exited is None

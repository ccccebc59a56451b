"""Children seen before their exec: their role cannot be decided from the parent's argv.

A forked child shows its parent's command line until it execs (and an empty one while the
image is being replaced). Such a child is held here, its pidfd already open, and re-read on
each scan until it has exec'd or ``EXEC_WAIT_S`` has passed; then the tracker decides its
role with the last command line read. Its start time stays the first sighting.

On a loaded machine a child may not even have been scheduled within ``EXEC_WAIT_S``, or be
caught mid-exec; its role would then be decided from its parent's command line, wrongly and
for good. So a child that has used less than ``STARVED_RUN_S`` of CPU since the fork keeps
waiting, up to ``EXEC_WAIT_MAX_S``: a fork+exec costs a few milliseconds of CPU, while a
child that runs code of its own without exec'ing (a pre-fork worker at work) soon passes
the threshold and is decided then. An idle pre-fork child is decided at the cap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from harness.system import procfs
from harness.system.membership import runs_parent_image

__all__ = ["EXEC_WAIT_MAX_S", "EXEC_WAIT_S", "Pending", "PendingExecs", "still_exec_bound"]

EXEC_WAIT_S = 0.1
"""How long a forked child with its parent's command line may take to exec."""
EXEC_WAIT_MAX_S = 2.0
"""How long a child that has not had the CPU to exec yet may keep its role undecided."""
STARVED_RUN_S = 0.05
"""Less CPU than this since the fork: the child may still be on its way to exec."""


def still_exec_bound(
    waited_s: float, state: tuple[str, float] | None, *, exec_events: bool = False
) -> bool:
    """Whether a child past ``EXEC_WAIT_S`` without exec'ing should wait some more.

    ``state``: its scheduler state letter and CPU seconds run (None when unknown). With
    kernel exec events a child caught mid-exec is no concern (its exec is reported when
    done), so only one not scheduled yet waits: a sleeping child (``S``) chose to wait for
    something, it is not on its way to an exec (a pre-fork worker, a daemon), and is decided.
    """
    if state is None or waited_s >= EXEC_WAIT_MAX_S:
        return False
    letter, run_s = state
    runnable = ("R", "D") if exec_events else ("R", "D", "S")
    return letter in runnable and run_s < STARVED_RUN_S  # not stopped, not dead


@dataclass
class Pending:
    """A child seen with its parent's command line: role undecided until it execs."""

    pid: int
    ppid: int
    instance: int
    fd: int
    seen_t: float
    seen_mono: float
    parent_cmdline: list[str] | None
    cmdline: list[str]
    exec_seen: bool = False
    """A kernel exec event said it has exec'd (its command line is its own, whatever)."""


class PendingExecs:
    """The pending children of one tracker, by pid (the tracker's lock guards it)."""

    def __init__(self, exec_wait_s: float = EXEC_WAIT_S, *, exec_events: bool = False) -> None:
        self._by_pid: dict[int, Pending] = {}
        self._exec_wait_s = exec_wait_s
        self._exec_events = exec_events

    def __contains__(self, pid: object) -> bool:
        return pid in self._by_pid

    def __len__(self) -> int:
        return len(self._by_pid)

    def __iter__(self) -> Iterator[Pending]:
        return iter(list(self._by_pid.values()))

    def add(self, pend: Pending) -> None:
        """Hold ``pend`` until it execs or its wait runs out."""
        self._by_pid[pend.pid] = pend

    def get(self, pid: int) -> Pending | None:
        return self._by_pid.get(pid)

    def pop(self, pid: int) -> Pending | None:
        """Take ``pid`` out (its role is being decided now), if it is pending."""
        return self._by_pid.pop(pid, None)

    def pop_all(self) -> list[Pending]:
        """Take every pending child out (teardown decides them all at once)."""
        out = list(self._by_pid.values())
        self._by_pid.clear()
        return out

    def pop_due(
        self, now_mono: float, held: Callable[[Pending], bool] = lambda _: False
    ) -> list[Pending]:
        """Re-read each command line; take out those that exec'd or waited long enough.

        A ``held`` child stays whatever it did (a daemonizing system's, while its launcher
        lives: whether it is a root is not known yet).
        """
        due: list[Pending] = []
        for pid, pend in list(self._by_pid.items()):
            if held(pend):
                continue
            current = procfs.cmdline(pid)
            # Compare with the parent's command line as it is now too: a parent that exec'd
            # after it was first seen (``sh -c '... && exec supervisord'``) forks children
            # that show its new command line until they exec themselves.
            parent_now = procfs.cmdline(pend.ppid)
            execed = bool(current) and not runs_parent_image(
                current, pend.exec_seen, (pend.parent_cmdline, parent_now)
            )
            if current:  # empty while exec replaces the image: keep the last reading
                pend.cmdline = current
            waited = now_mono - pend.seen_mono
            if execed or (
                waited >= self._exec_wait_s
                and not still_exec_bound(
                    waited, procfs.run_state(pid), exec_events=self._exec_events
                )
            ):
                del self._by_pid[pid]
                due.append(pend)
        return due

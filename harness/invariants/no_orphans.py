"""``no_orphans``: when a root process ends, its whole tree ends with it, on its own.

A supervisor killed by SIGKILL (or stopped by teardown) that leaves its backend or workers
running leaves work held by processes nobody watches (SolidQueue), and ports taken for the
next start (Jan). Every process of the instance alive when its root exits must exit within
``within``; any process the harness had to kill at teardown (``sweep``, ``orphan``) is an
orphan too. One orphan is one process, with its fate: "exited N ms after its root", or
"still running at teardown: ended by the harness" (its exit, recorded after the harness's
SIGKILL, is not its own), however many ways it was seen.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.invariants.base import Checker, History
from harness.invariants.lifetimes import INF, Life, Lifetimes
from harness.invariants.outcome import limit, listing, result, secs
from harness.observe.events import SystemStart, Teardown, TeardownStep
from harness.spec.kinds import InvariantSpec
from harness.spec.units import Duration
from harness.spec.verdict import InvariantResult

KIND = "no_orphans"

_HARNESS_KILLS = frozenset({TeardownStep.SWEEP, TeardownStep.ORPHAN})


class NoOrphansSpec(InvariantSpec):
    """``no_orphans: {within}``."""

    within: Duration


@dataclass(frozen=True)
class Orphan:
    """One process that outlived its root, and how it ended."""

    pid: int
    role: str | None
    instance: int
    t: float
    """When it was seen ending (or ended by the harness)."""
    fate: str


def _ms(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1000:.0f} ms"


def _roots(lives: Lifetimes, history: History) -> dict[int, Life]:
    roots = lives.roots()
    for start in history.of(SystemStart):
        if start.instance not in roots:
            life = lives.at(start.pid, start.t + 1e9)
            if life is not None:
                roots[start.instance] = life
    return roots


@dataclass(frozen=True)
class Census:
    """What ``check`` judges: the roots, every orphan once, and roots never seen to exit."""

    roots: dict[int, Life]
    orphans: list[Orphan]
    problems: list[str]
    last_exit: float
    """The longest a child took to exit on its own after its root."""


def census(spec: NoOrphansSpec, history: History) -> Census:
    """Every orphan once, in time order, with its fate."""
    lives = Lifetimes(history)
    roots = _roots(lives, history)
    root_pids = {life.pid for life in roots.values()}
    ended: dict[int, Teardown] = {}
    for td in history.of(Teardown):
        if td.action in _HARNESS_KILLS and td.pid is not None and td.pid not in root_pids:
            ended.setdefault(td.pid, td)
    found: dict[int, Orphan] = {}
    problems: list[str] = []
    last_exit = 0.0
    for instance, root in sorted(roots.items()):
        if root.exit == INF:
            where = f" of instance {instance}" if len(roots) > 1 else ""
            problems.append(f"the root{where} (pid {root.pid}) was never seen to exit")
            continue
        for life in lives.of(instance=instance):
            if life is root or not life.alive_at(root.exit) or life.pid in ended:
                continue
            lag = life.exit - root.exit
            if life.exit < INF:
                last_exit = max(last_exit, lag)
            if lag <= spec.within:
                continue
            if life.exit < INF:
                fate = f"exited {_ms(lag)} after its root (root exit at {secs(root.exit)})"
            else:
                fate = f"never seen to exit (root exit at {secs(root.exit)})"
            found[life.pid] = Orphan(life.pid, life.role, instance, min(life.exit, root.exit), fate)
    for pid, td in ended.items():
        found[pid] = Orphan(
            pid,
            td.role,
            td.instance or 0,
            td.t,
            f"still running at teardown: ended by the harness ({td.action} at {secs(td.t)})",
        )
    ordered = sorted(found.values(), key=lambda o: (o.t, o.pid))
    return Census(roots, ordered, problems, last_exit)


def check(spec: NoOrphansSpec, history: History) -> InvariantResult:
    """Children must outlive their root by at most ``within``; no harness kills."""
    seen = census(spec, history)
    found, problems, last_exit = seen.orphans, list(seen.problems), seen.last_exit
    multi = len(seen.roots) > 1
    for o in found:
        where = f" of instance {o.instance}" if multi else ""
        problems.append(f"{o.role or 'process'} pid {o.pid}{where} {o.fate}")
    metrics = {"orphans": len(found), "last_child_exit_s": round(last_exit, 6)}
    expected = f"every process exits within {limit(spec.within)} of its root"
    if not seen.roots:
        return result(
            KIND,
            spec,
            False,
            "no root process was recorded; nothing to judge",
            expected=expected,
            observed="no root",
            metrics=metrics,
        )
    if problems:
        return result(
            KIND,
            spec,
            False,
            f"{listing(problems)}; expected every process to exit within"
            f" {limit(spec.within)} of its root",
            expected=expected,
            observed=f"{len(found)} orphan(s)",
            metrics=metrics,
            evidence=[o.t for o in found],
        )
    return result(
        KIND,
        spec,
        True,
        f"every process exited within {secs(last_exit)} of its root; expected within"
        f" {limit(spec.within)}",
        expected=expected,
        observed=f"last child exit {secs(last_exit)} after its root",
        metrics=metrics,
        evidence=[life.exit for life in seen.roots.values()],
    )


CHECKER = Checker(KIND, NoOrphansSpec, check, after_exit=True)

"""``no_orphans``: when a root process ends, its whole tree ends with it, on its own.

A supervisor killed by SIGKILL (or stopped by teardown) that leaves its backend or workers
running leaves work held by processes nobody watches (SolidQueue), and ports taken for the
next start (Jan). Every process of the instance alive when its root exits must exit within
``within``; any process the harness had to kill at teardown (``sweep``, ``orphan``) counts
as an orphan.
"""

from __future__ import annotations

from harness.invariants.base import Checker, History
from harness.invariants.lifetimes import INF, Lifetimes
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


def check(spec: NoOrphansSpec, history: History) -> InvariantResult:
    """Children must outlive their root by at most ``within``; no harness kills."""
    lives = Lifetimes(history)
    roots = lives.roots()
    for start in history.of(SystemStart):
        if start.instance not in roots:
            life = lives.at(start.pid, start.t + 1e9)
            if life is not None:
                roots[start.instance] = life
    root_pids = {life.pid for life in roots.values()}
    problems: list[str] = []
    evidence: list[float] = []
    orphans = 0
    last_exit = 0.0
    multi = len(roots) > 1
    for instance, root in sorted(roots.items()):
        where = f" of instance {instance}" if multi else ""
        if root.exit == INF:
            problems.append(f"the root{where} (pid {root.pid}) was never seen to exit")
            continue
        left = [
            life
            for life in lives.of(instance=instance)
            if life is not root and life.alive_at(root.exit)
        ]
        for life in left:
            lag = life.exit - root.exit
            if life.exit < INF:
                last_exit = max(last_exit, lag)
            if lag > spec.within:
                orphans += 1
                evidence.append(life.exit if life.exit < INF else root.exit)
                how = f"{secs(lag)} after" if life.exit < INF else "never, after"
                problems.append(
                    f"{life.role or 'process'} pid {life.pid}{where} exited {how} its root"
                    f" (root exit at {secs(root.exit)})"
                )
    for td in history.of(Teardown):
        if td.action in _HARNESS_KILLS and td.pid not in root_pids:
            orphans += 1
            evidence.append(td.t)
            problems.append(
                f"{td.role or 'process'} pid {td.pid} had to be killed by the harness"
                f" ({td.action}) at {secs(td.t)}"
            )
    metrics = {"orphans": orphans, "last_child_exit_s": round(last_exit, 6)}
    expected = f"every process exits within {limit(spec.within)} of its root"
    if not roots:
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
            observed=f"{orphans} orphan(s)",
            metrics=metrics,
            evidence=evidence,
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
        evidence=[life.exit for life in roots.values()],
    )


CHECKER = Checker(KIND, NoOrphansSpec, check)

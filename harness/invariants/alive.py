"""``alive``: a role's processes keep their pids from ready until teardown.

The dora-rs daemon died on a recoverable error; Jan's second instance killed the first
one's backend. Either way the process that was serving at ready is gone before anyone
asked it to stop. Judged per instance, for every process of the role alive at ready.
"""

from __future__ import annotations

from typing import ClassVar

from harness.invariants.base import Checker, History
from harness.invariants.lifetimes import INF, Life, Lifetimes, ready_times, trial_end
from harness.invariants.outcome import listing, result, secs
from harness.observe.events import ProcessStart
from harness.observe.unnamed import unnamed_listing
from harness.spec.kinds import InvariantSpec
from harness.spec.verdict import InvariantResult

KIND = "alive"


class AliveSpec(InvariantSpec):
    """``alive: {role}``."""

    not_templates: ClassVar[frozenset[str]] = frozenset({"role"})

    role: str


def originals(role: str, history: History, lives: Lifetimes) -> dict[int, list[Life]]:
    """Per instance, the role's processes alive at its first ``Ready``.

    When none was seen yet (the observer found the child a moment after ready), the first
    ones seen after ready count, as many as the role expects (default one).
    """
    facts = history.roles.get(role)
    wanted = facts.count if facts is not None and facts.count else 1
    found: dict[int, list[Life]] = {}
    for instance, t_ready in sorted(ready_times(history).items()):
        role_lives = lives.of(role, instance)
        at_ready = [life for life in role_lives if life.alive_at(t_ready)]
        if not at_ready:
            later = [life for life in role_lives if life.start > t_ready]
            at_ready = sorted(later, key=lambda life: life.start)[:wanted]
        found[instance] = at_ready
    return found


def check(spec: AliveSpec, history: History) -> InvariantResult:
    """Fail on any original process exiting before teardown, naming how it ended."""
    lives = Lifetimes(history)
    found = originals(spec.role, history, lives)
    pids = [life.pid for group in found.values() for life in group]
    metrics = {"pid": pids[0] if len(pids) == 1 else pids}
    expected = f"{spec.role} keeps its pid from ready until teardown"
    if not found:
        return result(
            KIND,
            spec,
            False,
            f"no instance became ready, so no {spec.role} process can be judged",
            expected=expected,
            observed="never ready",
        )
    missing = [i for i, group in found.items() if not group]
    if missing:
        return result(
            KIND,
            spec,
            False,
            f"no {spec.role} process was seen in instance(s) {missing} after ready;"
            f" nothing to judge{_unnamed(history, missing)}",
            expected=expected,
            observed="no process of the role",
            metrics=metrics,
        )
    died = [life for group in found.values() for life in group if life.exit < lives.teardown]
    multi = len(found) > 1
    if died:
        told = [
            f"pid {life.pid}{f' (instance {life.instance})' if multi else ''} ended by"
            f" {life.how_it_ended()} at {secs(life.exit)}"
            for life in sorted(died, key=lambda life: life.exit)
        ]
        until = "teardown" if lives.teardown < INF else "the end of the trial"
        return result(
            KIND,
            spec,
            False,
            f"{spec.role} {listing(told)}; expected it alive until {until} at"
            f" {secs(trial_end(history))}",
            expected=expected,
            observed=f"{len(died)} of {len(pids)} process(es) exited early",
            metrics=metrics,
            evidence=[life.exit for life in died],
        )
    return result(
        KIND,
        spec,
        True,
        f"{spec.role} kept pid(s) {listing(map(str, pids), 6)} from ready until"
        f" {secs(trial_end(history))}",
        expected=expected,
        observed="same pid(s) throughout",
        metrics=metrics,
    )


def _unnamed(history: History, instances: list[int]) -> str:
    """The processes of those instances that no role named (what the role missed)."""
    seen = [
        (start.pid, start.cmdline)
        for start in history.of(ProcessStart)
        if start.role is None and start.instance in instances
    ]
    return unnamed_listing(seen)


CHECKER = Checker(KIND, AliveSpec, check, refs={"role": "role"})

"""The colours of the HTML report: one per role for a whole run, none shared with a meaning.

A reader learns "the backend is brown" from the first trial and reads every other trial
with it, so a role's colour comes from the run (every role name of every trial, sorted),
never from the order processes appear in one trial. The legend also gives colours to
things that are not roles (a probe reading ok, a fault window, a freeze, a kill); the role
palette keeps clear of all of them, so a worker's lane never reads as "probe ok".
"""

from __future__ import annotations

from collections.abc import Iterable

from harness.observe.events import ProcessStart
from harness.results.model import RunResult

MEANINGS = {
    "probe ok": "#4ac26b",
    "probe failed": "#cf222e",
    "ready": "#1a7f37",
    "fault window": "#ffb000",
    "frozen": "#0550ae",
    "killed": "#d62728",
    "request ok": "#3b73b9",
    "signal": "#1f2328",
}
"""What the charts draw in a colour that means something other than a role."""

ROLE_PALETTE = (
    "#9467bd",  # purple
    "#8c564b",  # brown
    "#e377c2",  # pink
    "#17becf",  # cyan
    "#bcbd22",  # olive
    "#393b79",  # indigo
    "#c49c94",  # tan
    "#5f6b7a",  # slate
)
"""Role colours, each far from every colour in ``MEANINGS`` (tested)."""
OTHER = "#a0a7b0"
"""Processes that matched no role."""
OTHER_ROLE = "other"


def role_colours(roles: Iterable[str]) -> dict[str, str]:
    """A colour per role name, by sorted name (so the same for every trial that has the
    role); beyond the palette's size colours repeat, still one per name."""
    names = sorted({r for r in roles if r != OTHER_ROLE})
    colours = {name: ROLE_PALETTE[i % len(ROLE_PALETTE)] for i, name in enumerate(names)}
    colours[OTHER_ROLE] = OTHER
    return colours


def run_role_colours(run: RunResult) -> dict[str, str]:
    """``role_colours`` of every role any trial of ``run`` started a process of."""
    return role_colours(
        e.role or OTHER_ROLE
        for s in run.scenarios
        for t in s.trials
        for e in t.events
        if isinstance(e, ProcessStart)
    )


def distance(a: str, b: str) -> float:
    """Euclidean distance of two ``#rrggbb`` colours in RGB (0..441)."""
    ra, ga, ba = (int(a[i : i + 2], 16) for i in (1, 3, 5))
    rb, gb, bb = (int(b[i : i + 2], 16) for i in (1, 3, 5))
    return float(((ra - rb) ** 2 + (ga - gb) ** 2 + (ba - bb) ** 2) ** 0.5)

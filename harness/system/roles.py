"""Role names for processes: the scenario's matchers, tried in order, first match wins."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Lineage:
    """Where a process came from, for ``forked_from``: its parent's role (None: no role,
    or the parent is not tracked) and whether it still runs its parent's image (forked,
    not exec'd)."""

    parent_role: str | None = None
    forked: bool = False


UNKNOWN_LINEAGE = Lineage()
"""A launched root, or a child that has exec'd: ``forked_from`` never matches it."""


@dataclass(frozen=True)
class RoleMatcher:
    """One scenario role. ``root`` roles match only a launched root; ``cmdline`` is searched
    in the space-joined command line; ``exe`` is compared with the executable's base name
    (``argv[0]`` or ``/proc/<pid>/exe``); ``forked_from`` matches only a child of a process
    of that role that has not exec'd. Every given criterion must hold.
    """

    name: str
    root: bool = False
    cmdline: re.Pattern[str] | None = None
    exe: str | None = None
    forked_from: str | None = None

    def matches(
        self,
        *,
        root: bool,
        cmdline: Sequence[str],
        exe: Callable[[], str | None],
        lineage: Lineage = UNKNOWN_LINEAGE,
    ) -> bool:
        if self.root and not root:
            return False
        if self.forked_from is not None and not (
            lineage.forked and lineage.parent_role == self.forked_from
        ):
            return False
        if self.cmdline is not None and self.cmdline.search(" ".join(cmdline)) is None:
            return False
        if self.exe is not None:
            argv0 = os.path.basename(cmdline[0]) if cmdline else None
            if self.exe != argv0 and self.exe != exe():
                return False
        return True


def resolve_role(
    matchers: Sequence[RoleMatcher],
    *,
    root: bool,
    cmdline: Sequence[str],
    exe: Callable[[], str | None],
    lineage: Lineage = UNKNOWN_LINEAGE,
) -> str | None:
    """The first matching role's name, or None."""
    for matcher in matchers:
        if matcher.matches(root=root, cmdline=cmdline, exe=exe, lineage=lineage):
            return matcher.name
    return None


def names_forked(matchers: Sequence[RoleMatcher], parent_role: str | None) -> bool:
    """Whether a ``forked_from`` role names the un-exec'd children of ``parent_role``: such
    a child is named at once, without waiting to see whether it execs."""
    return parent_role is not None and any(m.forked_from == parent_role for m in matchers)

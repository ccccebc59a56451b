"""Role names for processes: the scenario's matchers, tried in order, first match wins."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class RoleMatcher:
    """One scenario role. ``root`` roles match only a launched root; ``cmdline`` is searched
    in the space-joined command line; ``exe`` is compared with the executable's base name
    (``argv[0]`` or ``/proc/<pid>/exe``). Every given criterion must hold.
    """

    name: str
    root: bool = False
    cmdline: re.Pattern[str] | None = None
    exe: str | None = None

    def matches(self, *, root: bool, cmdline: Sequence[str], exe: Callable[[], str | None]) -> bool:
        if self.root and not root:
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
) -> str | None:
    """The first matching role's name, or None."""
    for matcher in matchers:
        if matcher.matches(root=root, cmdline=cmdline, exe=exe):
            return matcher.name
    return None

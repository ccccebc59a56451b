"""What a role that matches nothing was up against: the processes seen without a role.

"no live process of role 'worker'" alone leaves the author to guess; the processes the
tracker did see but could not name (pid, executable, command line) show what the role's
``cmdline``/``exe``/``forked_from`` should have said. Bounded, and each command line cut
and quoted with ``repr`` (control characters visible); reporters escape the rest.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

__all__ = ["CMDLINE_SHOWN", "UNNAMED_SHOWN", "unnamed_listing"]

UNNAMED_SHOWN = 4
"""How many unnamed processes a message lists."""
CMDLINE_SHOWN = 100
"""How much of each command line it shows."""


def unnamed_listing(seen: Sequence[tuple[int, Sequence[str]]]) -> str:
    """``"; seen without a role: pid 12 python3 'python3 a.py', ... (and 2 more)"``, or ``""``.

    ``seen``: (pid, command line) of each process without a role, in the order seen.
    """
    if not seen:
        return ""
    shown = []
    for pid, argv in seen[:UNNAMED_SHOWN]:
        exe = os.path.basename(argv[0]) if argv else "?"
        line = " ".join(argv)
        cut = line[:CMDLINE_SHOWN] + ("..." if len(line) > CMDLINE_SHOWN else "")
        shown.append(f"pid {pid} {exe[:40]!r} {cut!r}")
    more = len(seen) - UNNAMED_SHOWN
    tail = f" (and {more} more)" if more > 0 else ""
    return f"; seen without a role: {', '.join(shown)}{tail}"

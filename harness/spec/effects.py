"""What a fault does to the processes it touches, declared by the fault, read by checkers.

Checkers never test a fault's name: ``recovers`` judges every action that ``ENDS`` or
``STOPS`` processes, ``restarts`` counts replacements after every ``ENDS``. A new fault kind
that ends processes is judged by them without a change to any checker.
"""

from __future__ import annotations

from enum import StrEnum


class Effect(StrEnum):
    """The effect of one fault action on the processes it names."""

    ENDS = "ends"
    """They are meant to die: a lethal signal, a memory limit the kernel enforces."""
    STOPS = "stops"
    """They stop running but keep their pid, sockets and locks (SIGSTOP, a cgroup freeze)."""
    RESUMES = "resumes"
    """A stop is undone: they run again (SIGCONT, a thaw)."""
    NONE = "none"
    """Nothing is done to processes (a squatted port, bad requests, a network toxic)."""

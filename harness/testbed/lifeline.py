"""Child side of the supervision contract: die with the parent, talk over the channel.

Two independent ties, so a SIGKILLed supervisor leaves no orphans: the parent-death signal
(``PR_SET_PDEATHSIG`` via prctl) and EOF on the channel socket. Both are skipped when the
supervisor passes ``TESTBED_ORPHANS=1`` (the ``orphans`` bug).
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading

from harness.testbed.channel import Channel

PR_SET_PDEATHSIG = 1
ORPHANS_ENV = "TESTBED_ORPHANS"
PARENT_ENV = "TESTBED_PARENT_PID"


def orphans_bug() -> bool:
    """True when the supervisor asked its children not to die with it."""
    return os.environ.get(ORPHANS_ENV) == "1"


def tie_to_parent() -> None:
    """Ask the kernel for SIGKILL when the parent dies; exit now if it already has.

    SIGINT is ignored: a Ctrl-C in a terminal reaches the whole process group, and stopping
    children is the supervisor's job (SIGTERM, grace, SIGKILL).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if orphans_bug():
        return
    import ctypes  # ~3 ms; only children pay it, once

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    expected = os.environ.get(PARENT_ENV)
    if expected and os.getppid() != int(expected):
        os._exit(0)  # the parent died before prctl: follow it


def open_channel(fd: int) -> Channel:
    """Wrap the inherited socket descriptor."""
    return Channel(socket.socket(fileno=fd))


def parent_gone() -> None:
    """The channel reached EOF: exit, or with the ``orphans`` bug, live on alone."""
    if orphans_bug():
        threading.Event().wait()
    os._exit(0)


def watch_parent(channel: Channel) -> threading.Thread:
    """A daemon thread that reads the channel and ends the process at EOF."""

    def run() -> None:
        while channel.recv(None) is not None:
            pass
        parent_gone()

    thread = threading.Thread(target=run, name="lifeline", daemon=True)
    thread.start()
    return thread


def parse_flags(argv: list[str]) -> dict[str, str]:
    """``--key value`` pairs (children skip argparse: it costs ~9 ms of start-up)."""
    flags: dict[str, str] = {}
    it = iter(argv)
    for item in it:
        if not item.startswith("--"):
            raise SystemExit(f"unexpected argument {item!r}")
        key, sep, value = item[2:].partition("=")
        flags[key] = value if sep else next(it, "")
    return flags


def log(role: str, text: str) -> None:
    """One line on stderr, tagged with the role and pid (the harness tails it)."""
    sys.stderr.write(f"[{role} {os.getpid()}] {text}\n")
    sys.stderr.flush()


def heartbeat_forever(channel: Channel, beat: float) -> None:
    """Send ``hb`` every ``beat`` seconds until the channel breaks (run it in a thread)."""
    stop = threading.Event()
    while not stop.wait(beat):
        if not channel.send({"t": "hb"}):
            return

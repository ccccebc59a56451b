"""Spawning and signalling child processes: the only place the supervisor touches the OS.

Each child is ``sys.executable -m harness.testbed.ROLE`` (never a shim), gets one end of a
socketpair as its channel, and a pidfd is opened on it so its exit wakes the supervisor's
selector at once (no polling).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.testbed.channel import Channel
from harness.testbed.lifeline import ORPHANS_ENV, PARENT_ENV

# The folder that holds the ``harness`` package, so children import it from any cwd.
PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


@dataclass
class Child:
    """One live (or just-dead) child process."""

    slot: str
    proc: subprocess.Popen[bytes]
    channel: Channel
    pidfd: int
    spawned_at: float
    last_hb: float
    info: dict[str, object] = field(default_factory=dict)
    exit_code: int | None = None

    @property
    def pid(self) -> int:
        """The child's pid."""
        return self.proc.pid

    def signal(self, sig: int) -> None:
        """Signal this child through its pidfd (never a recycled pid)."""
        if self.exit_code is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            signal.pidfd_send_signal(self.pidfd, sig)

    def reap(self) -> int:
        """Collect the exit status (the pidfd said it exited) and close descriptors."""
        if self.exit_code is None:
            self.exit_code = self.proc.wait()
            os.close(self.pidfd)
            self.channel.close()
        return self.exit_code


def child_env(orphans: bool) -> dict[str, str]:
    """The environment of every child: our package importable, our pid as the parent."""
    env = dict(os.environ)
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = PACKAGE_ROOT + (os.pathsep + path if path else "")
    env[PARENT_ENV] = str(os.getpid())
    if orphans:
        env[ORPHANS_ENV] = "1"
    else:
        env.pop(ORPHANS_ENV, None)
    return env


def command(module: str, fd: int, args: list[str]) -> list[str]:
    """The child's command line: the interpreter itself, ``-S`` (no site: children import
    the standard library only, and site hooks such as editable-install finders cost
    ~20 ms per start), then ``-m harness.testbed.MODULE --fd N ARGS``."""
    return [sys.executable, "-S", "-m", f"harness.testbed.{module}", "--fd", str(fd), *args]


def spawn(slot: str, module: str, args: list[str], env: dict[str, str]) -> Child:
    """Start ``python -m harness.testbed.MODULE --fd N ARGS`` with a fresh channel."""
    parent_sock, child_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        fd = child_sock.fileno()
        proc = subprocess.Popen(
            command(module, fd, args),
            pass_fds=(fd,),
            env=env,
            stdin=subprocess.DEVNULL,
        )
    except BaseException:
        parent_sock.close()
        raise
    finally:
        child_sock.close()
    parent_sock.setblocking(False)
    now = time.monotonic()
    return Child(slot, proc, Channel(parent_sock), os.pidfd_open(proc.pid), now, now)

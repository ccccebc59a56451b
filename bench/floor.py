"""The floor: the least any supervisor can do, run as a system under test like the others.

Spawn each worker; the instant its pidfd says it exited, reap it and spawn it again. No
policy, no delay, no state, no crash-loop protection. Whatever a real supervisor adds on top
of this (ticks, checks, backoff, bookkeeping) is its overhead. Children are started with
``subprocess.Popen``, which vforks and execs (Python 3.10+): from Python the cheapest way,
2-3 ms sooner to a running child than ``os.fork`` and exec, which copies the parent's pages
as they are written.

Run (by the bench, as the system's root):
``python -S -m bench.floor backend PORT...`` runs ``harness.testbed.backend --port PORT``
standalone, the exact command supervisord and circus are given; it prints its own ready
line. ``python -S -m bench.floor module N`` runs N testbed modules with the testbed's
register handshake, and prints ``mN pid P ready (t=...)`` as the testbed supervisor does.
SIGTERM stops the children (SIGTERM, then SIGKILL after 5 s) and exits 0.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

from harness.testbed.channel import Channel
from harness.testbed.children import child_env, command

GRACE_S = 5.0


@dataclass
class Worker:
    """One slot: what to run, and the live process (with its pidfd and channel)."""

    name: str
    port: int | None  # backend: its port; module: None
    proc: subprocess.Popen[bytes] | None = None
    pidfd: int = -1
    channel: Channel | None = None


def say(text: str) -> None:
    sys.stderr.write(f"[floor] {text}\n")
    sys.stderr.flush()


class Floor:
    """Spawn, wait on pidfds and channels, respawn at once."""

    def __init__(self, workers: list[Worker]) -> None:
        self.workers = workers
        self.selector = selectors.DefaultSelector()
        self.stopping = False
        self.stop_deadline = 0.0
        self.env = child_env(orphans=False)

    def spawn(self, w: Worker) -> None:
        if w.port is not None:
            argv = [sys.executable, "-S", "-m", "harness.testbed.backend", "--port", str(w.port)]
            w.proc = subprocess.Popen([*argv, "--name", w.name], stdin=subprocess.DEVNULL)
        else:
            parent, child = socket.socketpair()
            try:
                fd = child.fileno()
                args = ["--name", w.name, "--instance", "floor", "--beat", "1.0"]
                argv = command("module", fd, args)  # the testbed's beat (1 s), its handshake
                w.proc = subprocess.Popen(
                    argv, pass_fds=(fd,), env=self.env, stdin=subprocess.DEVNULL
                )
            finally:
                child.close()
            parent.setblocking(False)
            w.channel = Channel(parent)
            self.selector.register(parent, selectors.EVENT_READ, ("channel", w))
        w.pidfd = os.pidfd_open(w.proc.pid)
        self.selector.register(w.pidfd, selectors.EVENT_READ, ("exit", w))
        say(f"spawned {w.name} pid {w.proc.pid} (t={time.monotonic():.6f})")

    def on_exit(self, w: Worker) -> None:
        assert w.proc is not None
        self.selector.unregister(w.pidfd)
        os.close(w.pidfd)
        if w.channel is not None:
            self.selector.unregister(w.channel.sock)
            w.channel.close()
            w.channel = None
        w.proc.wait()
        if not self.stopping:
            self.spawn(w)

    def on_channel(self, w: Worker) -> None:
        assert w.channel is not None
        assert w.proc is not None
        messages = w.channel.feed()
        if messages is None:  # EOF: it is exiting; its pidfd says when
            self.selector.unregister(w.channel.sock)
            w.channel.close()
            w.channel = None
            return
        if any(m.get("t") == "register" for m in messages):
            w.channel.send({"t": "registered", "name": w.name})
            say(f"{w.name} pid {w.proc.pid} ready (t={time.monotonic():.6f})")

    def run(self) -> int:
        signal.signal(signal.SIGTERM, lambda *_: self.stop())
        for w in self.workers:
            self.spawn(w)
        while any(w.proc is not None and w.proc.returncode is None for w in self.workers):
            for key, _ in self.selector.select(0.5 if self.stopping else None):
                kind, w = key.data
                if kind == "exit":
                    self.on_exit(w)
                elif w.channel is not None:  # not a channel closed earlier in this batch
                    self.on_channel(w)
            if self.stopping and time.monotonic() > self.stop_deadline:
                self.signal_all(signal.SIGKILL)
        return 0

    def stop(self) -> None:
        self.stopping = True
        self.stop_deadline = time.monotonic() + GRACE_S
        self.signal_all(signal.SIGTERM)

    def signal_all(self, sig: int) -> None:
        for w in self.workers:
            if w.proc is not None and w.proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    signal.pidfd_send_signal(w.pidfd, sig)


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] not in ("backend", "module"):
        sys.stderr.write("usage: python -m bench.floor backend PORT... | module N\n")
        return 2
    if argv[0] == "backend":
        workers = [Worker(f"w{i:02d}", int(port)) for i, port in enumerate(argv[1:])]
    else:
        workers = [Worker(f"m{i}", None) for i in range(int(argv[1]))]
    return Floor(workers).run()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

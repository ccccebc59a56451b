"""``command`` workloads: the user's own client program, run once per request.

``argv`` (templates: ``{port}``...) runs without a shell in a session of its own, stdin
empty, stdout and stderr together in one pipe; its exit status is the request's status
(``0`` is ok unless ``ok_status`` says otherwise) and its output, the first 4 KiB kept,
the answer (decoded JSON when it is JSON, so ``record`` can pick an id out of it).

Contained: when it exits, and when ``timeout`` passes, its whole process group is
SIGKILLed and the program is reaped (and what it left in its group, once re-parented to
the harness, a child subreaper), so a client that leaves a child behind, or hangs,
never outlives its request; ``close`` (the workload stopping) does the same to every one
still running. The harness cannot see where a program sends its traffic: pointing it at
the system on this machine (``127.0.0.1:{port}``) is the author's part of the loopback
rule.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import threading
import time
from typing import Annotated

from pydantic import Field

from harness.observe.http import compact, decode
from harness.spec.kinds import WorkloadKindSpec
from harness.spec.units import Duration
from harness.workload.base import Answer, Target, WorkloadKind

OUTPUT_LIMIT = 4096
"""Bytes of one run's output kept; the rest is read and dropped, so the program never
blocks on a full pipe."""

_POLL_S = 0.05
"""How often a run whose output is still open checks whether the program has exited (a
child it left behind may hold the pipe open)."""


class CommandWorkloadSpec(WorkloadKindSpec):
    """``command: {argv: [...], timeout: 5s, env: {}}``."""

    argv: Annotated[list[str], Field(min_length=1)]
    timeout: Annotated[Duration, Field(gt=0)] = 5.0
    env: dict[str, str] = Field(default_factory=dict)
    """Added to the harness's environment for the program (values are templates)."""


class CommandClient:
    """Runs ``argv`` per call; every run contained in its own process group."""

    def __init__(self, spec: CommandWorkloadSpec, target: Target) -> None:
        self._spec = spec
        self._argv = [target.resolve(arg) for arg in spec.argv]
        self._env = {**os.environ, **{k: target.resolve(v) for k, v in spec.env.items()}}
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen[bytes]] = set()
        self._closed = False

    def call(self) -> Answer:
        with self._lock:
            if self._closed:
                return Answer(error="stopped: the workload was stopped")
            try:
                process = subprocess.Popen(
                    self._argv,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    env=self._env,
                )
            except OSError as exc:
                return Answer(error=f"cannot start {self._argv[0]!r}: {exc.strerror or exc}")
            self._running.add(process)
        try:
            output, timed_out = _collect(process, self._spec.timeout)
        finally:
            _kill_group(process)
            process.wait()
            _reap_group(process.pid)
            assert process.stdout is not None
            process.stdout.close()
            with self._lock:
                self._running.discard(process)
        value, structured = decode(output)
        shown = value if structured else compact(value, OUTPUT_LIMIT)
        if timed_out:
            return Answer(error=f"timeout after {self._spec.timeout:g}s (killed)", value=shown)
        code = process.returncode
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.valid_signals() else -code
            return Answer(error=f"the program died of {name}", value=shown)
        return Answer(status=code, value=value if structured else shown, structured=structured)

    def close(self) -> None:
        """Kill every run in progress (each call then reaps its own)."""
        with self._lock:
            self._closed = True
            running = list(self._running)
        for process in running:
            _kill_group(process)


def _collect(process: subprocess.Popen[bytes], timeout: float) -> tuple[bytes, bool]:
    """The first ``OUTPUT_LIMIT`` bytes the program wrote until it exited (and its output
    is drained) or ``timeout`` passed; and whether it timed out."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    kept = bytearray()
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return bytes(kept), process.poll() is None
            exited = process.poll() is not None
            if not selector.select(0 if exited else min(remaining, _POLL_S)):
                if exited:  # nothing more to read now; a leftover child is killed next
                    return bytes(kept), False
                continue
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:
                if process.poll() is None:
                    try:
                        process.wait(max(deadline - time.monotonic(), 0.0))
                    except subprocess.TimeoutExpired:
                        return bytes(kept), True
                return bytes(kept), False
            if len(kept) < OUTPUT_LIMIT:
                kept += chunk[: OUTPUT_LIMIT - len(kept)]


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the program's process group (it leads one: ``start_new_session``)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _reap_group(pgid: int) -> None:
    """Reap what the program left in its group and that was re-parented to the harness
    (a child subreaper): SIGKILLed already, each is waited for as it dies. Its parent was
    reaped first, so every such orphan is already ours; none left: ``ChildProcessError``."""
    while True:
        try:
            os.waitpid(-pgid, 0)
        except ChildProcessError:
            return
        except InterruptedError:
            continue


def _ok(status: int) -> bool:
    return status == 0


KIND = WorkloadKind("command", CommandWorkloadSpec, CommandClient, ok_default=_ok)

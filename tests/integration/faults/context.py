"""A minimal but real ``FaultContext`` for fault tests: real children, real pidfd signals.

The real launcher and tracker are another module's business; this one spawns its own
``python -c`` sleep loops, holds a pidfd for each (so a signal can never reach a recycled
pid), refuses any process it did not start, and runs timers and teardown actions the way
the trial context does. ``close`` always thaws, kills and reaps every child.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable

from harness.disks import Disk, DiskSet
from harness.observe.events import ProcessExit, ProcessStart
from harness.observe.timeline import Timeline
from harness.proxy import Proxy, ProxySet
from harness.system.limits import Limits, remove_v1_run, v1_run_dirs
from harness.system.process import TrackedProcess

_LOOP = "import time\nwhile True:\n    time.sleep(0.05)\n"
_TEMPLATE = re.compile(r"\{([a-z_.]+)\}")


class RealContext:
    """Implements ``harness.faults.base.FaultContext`` over processes it spawned itself."""

    def __init__(
        self,
        seed: int = 0,
        values: dict[str, str] | None = None,
        proxies: ProxySet | None = None,
        disks: DiskSet | None = None,
        limits: Limits | None = None,
    ) -> None:
        self._timeline = Timeline()
        self.limits_ = limits or Limits(
            trial_id=f"t{os.getpid()}", run_name=f"test-{os.getpid()}", trial=None, v2_parent=None
        )
        self.proxies = proxies or ProxySet()
        self.disks = disks or DiskSet()
        self._rng = random.Random(seed)
        self._stopping = threading.Event()
        self._values = dict(values or {})
        self._lock = threading.Lock()
        self._children: dict[int, tuple[TrackedProcess, subprocess.Popen[bytes]]] = {}
        self._timers: list[threading.Timer] = []
        self._teardown: list[Callable[[], None]] = []

    # ------------------------------------------------------------------ FaultContext

    @property
    def timeline(self) -> Timeline:
        return self._timeline

    @property
    def rng(self) -> random.Random:
        return self._rng

    @property
    def stopping(self) -> threading.Event:
        return self._stopping

    def processes(
        self, role: str | None = None, instance: int | None = None
    ) -> list[TrackedProcess]:
        with self._lock:
            children = list(self._children.values())
        live = []
        for process, popen in children:
            if process.exited is None and popen.poll() is not None:
                process.exited = self._timeline.now()
                self._timeline.record(
                    ProcessExit(
                        t=process.exited,
                        pid=process.pid,
                        instance=process.instance,
                        role=process.role,
                        code=popen.returncode if popen.returncode >= 0 else None,
                        signal=signal.Signals(-popen.returncode).name
                        if popen.returncode < 0
                        else None,
                    )
                )
            if not process.alive:
                continue
            if role is not None and process.role != role:
                continue
            if instance is not None and process.instance != instance:
                continue
            live.append(process)
        return live

    def signal(self, process: TrackedProcess, signum: int) -> bool:
        with self._lock:
            mine = self._children.get(process.pid)
        if mine is None or mine[0] is not process:
            raise PermissionError(f"pid {process.pid} was not started by this context")
        if process.exited is not None or process.pidfd is None:
            return False
        try:
            signal.pidfd_send_signal(process.pidfd, signum)
        except ProcessLookupError:
            return False
        return True

    def resolve(self, template: str, instance: int = 0) -> str:
        values = {**self._values, "instance": str(instance)}
        return _TEMPLATE.sub(lambda m: values[m.group(1)], template)

    def later(self, delay: float, action: Callable[[], None]) -> None:
        timer = threading.Timer(max(0.0, delay), action)
        timer.daemon = True
        with self._lock:
            self._timers.append(timer)
            self._teardown.append(action)
        timer.start()

    def on_teardown(self, action: Callable[[], None]) -> None:
        with self._lock:
            self._teardown.append(action)

    def proxy(self, name: str, instance: int = 0) -> Proxy:
        return self.proxies.get(name, instance)

    def disk(self, name: str, instance: int = 0) -> Disk:
        return self.disks.get(name, instance)

    def limits(self) -> Limits:
        return self.limits_

    # ------------------------------------------------------------------ test helpers

    def spawn(
        self, role: str, instance: int = 0, code: str = _LOOP, **popen_args: object
    ) -> TrackedProcess:
        """Start one sleep loop (or ``code``) as a process of ``role``; record its start."""
        args: dict[str, object] = {"stdin": subprocess.DEVNULL, **popen_args}
        popen = subprocess.Popen([sys.executable, "-c", code], **args)  # type: ignore[call-overload]
        process = TrackedProcess(
            pid=popen.pid,
            ppid=os.getpid(),
            instance=instance,
            role=role,
            cmdline=list(map(str, popen.args)),  # type: ignore[arg-type]
            started=self._timeline.now(),
            pidfd=os.pidfd_open(popen.pid),
        )
        with self._lock:
            self._children[popen.pid] = (process, popen)
        self._timeline.record(
            ProcessStart(
                t=process.started,
                pid=process.pid,
                ppid=process.ppid,
                instance=instance,
                role=role,
                cmdline=process.cmdline,
            )
        )
        return process

    def wait_exit(self, process: TrackedProcess, timeout: float = 10.0) -> int:
        """The child's wait status as ``Popen.returncode`` (``-9`` for SIGKILL)."""
        with self._lock:
            popen = self._children[process.pid][1]
        code = popen.wait(timeout)
        self.processes()  # marks it exited
        return code

    def run_teardown(self) -> None:
        """What the runner does at the end of a trial: stop timers, run undo actions."""
        self._stopping.set()
        with self._lock:
            timers, actions = list(self._timers), list(self._teardown)
        for timer in timers:
            timer.cancel()
        for action in actions:
            action()

    def close(self) -> None:
        """Teardown actions, then SIGKILL, reap and close every child's pidfd; then the
        proxies and disks it was given are closed too."""
        try:
            self.run_teardown()
        finally:
            with self._lock:
                children = list(self._children.values())
            for process, popen in children:
                if popen.poll() is None and process.pidfd is not None:
                    signal.pidfd_send_signal(process.pidfd, signal.SIGKILL)
                popen.wait(10.0)
                if process.pidfd is not None:
                    os.close(process.pidfd)
                    process.pidfd = None
                process.exited = process.exited or self._timeline.now()
            self.proxies.close()
            self.disks.close()
            self.limits_.close()
            for directory in v1_run_dirs(self.limits_.run_name):
                if directory.exists():
                    remove_v1_run(directory)


def proc_state(pid: int) -> str:
    """The one-letter state from ``/proc/PID/stat`` (``T`` stopped, ``S``/``R`` running)."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0]

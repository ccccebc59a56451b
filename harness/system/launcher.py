"""Start one instance of the system under test, marked, in its own session, its output logged.

The root runs in a new session (so a terminal's Ctrl-C reaches only the harness, which then
tears down in order), with stdin closed and both output streams drained by an
``OutputCapture`` (``harness.system.output``) into bounded ``LogLine`` events on the
timeline (readiness patterns and the ``log`` invariant read them there) and a bounded tail.
The harness never ``wait``s on the root itself: the tracker reaps it through its pidfd, and
``Launched.returncode`` reads the recorded exit.

Into a cgroup, before it can fork: the root starts as a tiny ``/bin/sh`` shim that blocks
reading one line from its stdin (a pipe only the harness writes). Meanwhile the harness
writes its pid into the leaf's ``cgroup.procs`` (a refusal is a ``HostError``, never a
silent fallback) and hands it to the tracker (``on_pid``); then it writes the line and the
shim ``exec``s the command with stdin from ``/dev/null``. The pid stays the same through
the exec, so the root is in its cgroup from its first instruction. No ``preexec_fn``: the
harness is multi-threaded, and code run between fork and exec there can deadlock. The shim
costs one exec of ``sh`` (measured: 1.7 ms from launch to the command running, 1.1 ms
without). The executable is looked up first, as ``Popen`` would, so a missing or
non-executable program is still a clear error.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

from harness.errors import HostError, SystemUnderTestError
from harness.observe.events import ProcessExit, SystemStart
from harness.observe.timeline import Timeline
from harness.system.marker import marker_env
from harness.system.output import OutputCapture, OutputLimits

SHELL = "/bin/sh"
SHIM = 'read -r _ || exit 125; exec "$@" </dev/null'
"""Wait for the harness's go (the pid is in its cgroup by then), then become the command."""


class Launched:
    """A launched root: its pid, its output (``output``), and (once reaped) its return code."""

    def __init__(
        self,
        popen: subprocess.Popen[bytes],
        *,
        instance: int,
        timeline: Timeline,
        started: float,
        limits: OutputLimits | None = None,
    ) -> None:
        self.pid = popen.pid
        self.instance = instance
        self.started = started
        """Trial time of the launch."""
        self._popen = popen
        self._timeline = timeline
        self.output = OutputCapture(
            {"stdout": popen.stdout, "stderr": popen.stderr},
            instance=instance,
            timeline=timeline,
            limits=limits or OutputLimits(),
            name=f"chaos-output-{self.pid}",
        )

    def start_reading(self) -> None:
        """Start turning output into ``LogLine`` events (after ``SystemStart`` is recorded)."""
        self.output.start()

    # ------------------------------------------------------------------ public

    def output_tail(self) -> list[str]:
        """The last lines the root wrote (stdout and stderr, interleaved as read)."""
        return self.output.tail()

    @property
    def returncode(self) -> int | None:
        """Exit code (or minus the signal) once the tracker has recorded the root's exit."""
        for event in self._timeline.of(ProcessExit):
            if event.pid == self.pid and event.t >= self.started:
                if event.code is not None:
                    return event.code
                if event.signal is not None:
                    try:
                        return -int(signal.Signals[event.signal])
                    except KeyError:
                        return None
                return None
        return None

    @property
    def output_done(self) -> bool:
        """True once both output streams reached end of file (or were closed)."""
        return self.output.done

    def wait_output(self, timeout: float) -> bool:
        """Wait until both streams reach end of file (every writer has exited)."""
        return self.output.wait(timeout)

    def close(self) -> None:
        """Stop reading and close the pipes; idempotent. Call after the tree is gone."""
        code = self.returncode
        self.output.close(writers_gone=code is not None)
        if code is not None and self._popen.returncode is None:
            # The tracker reaped it: tell Popen, so it never waits on a recycled pid.
            self._popen.returncode = code


def _check_executable(name: str, env: Mapping[str, str], cwd: Path) -> None:
    """Raise what ``Popen`` would for a program that cannot be executed (the shim cannot)."""
    if "/" in name:
        candidates = [cwd / name if not os.path.isabs(name) else Path(name)]
    else:
        candidates = [Path(d or ".") / name for d in env.get("PATH", os.defpath).split(":")]
    denied: Path | None = None
    for path in candidates:
        if path.is_file():
            if os.access(path, os.X_OK):
                return
            denied = denied or path
    if denied is not None:
        raise PermissionError(13, "Permission denied", str(denied))
    raise FileNotFoundError(2, "No such file or directory", name)


def launch(
    command: list[str],
    *,
    instance: int,
    env: Mapping[str, str],
    cwd: Path,
    timeline: Timeline,
    trial_id: str,
    output: OutputLimits | None = None,
    cgroup_procs: Path | None = None,
    on_pid: Callable[[int], object] | None = None,
) -> Launched:
    """Start ``command`` marked with ``trial_id``; record ``SystemStart``.

    With ``cgroup_procs`` the root enters that cgroup before it runs a single instruction
    of ``command``; ``on_pid`` is called with its pid before then too (``add_root``), and
    after ``SystemStart`` is recorded. Raises ``SystemUnderTestError`` (with the reason)
    when it cannot be started at all, ``HostError`` when it cannot enter its cgroup.
    """
    if not command:
        raise SystemUnderTestError("the system's command is empty")
    full_env = dict(os.environ)
    full_env.update(env)
    full_env.update(marker_env(trial_id, instance))
    argv = list(command) if cgroup_procs is None else [SHELL, "-c", SHIM, "chaos-shim", *command]
    try:
        if cgroup_procs is not None:
            if not cwd.is_dir():
                raise FileNotFoundError(2, "No such file or directory", str(cwd))
            _check_executable(command[0], full_env, cwd)
        popen = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL if cgroup_procs is None else subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=full_env,
            start_new_session=True,
            close_fds=True,
        )
    except OSError as exc:
        what = exc.strerror or str(exc)
        where = f" ({exc.filename})" if exc.filename else ""
        raise SystemUnderTestError(
            f"cannot start {command[0]!r} in {str(cwd)!r}: {what}{where}"
        ) from exc
    try:
        if cgroup_procs is not None:
            _enter(popen.pid, cgroup_procs)
        started = timeline.now()
        launched = Launched(
            popen, instance=instance, timeline=timeline, started=started, limits=output
        )
        timeline.record(
            SystemStart(
                t=started, instance=instance, pid=popen.pid, command=list(command), cwd=str(cwd)
            )
        )
        if on_pid is not None:
            on_pid(popen.pid)
        if popen.stdin is not None:  # go: the shim execs the command now
            popen.stdin.write(b"go\n")
            popen.stdin.close()
    except BaseException:
        _abandon(popen)
        raise
    launched.start_reading()
    return launched


def _enter(pid: int, cgroup_procs: Path) -> None:
    try:
        with open(cgroup_procs, "w", encoding="ascii") as handle:
            handle.write(str(pid))
    except OSError as exc:
        raise HostError(
            f"the system's root could not enter its cgroup ({cgroup_procs}):"
            f" {exc.strerror or exc}; set CHAOS_CONTAINMENT=marker to run without cgroups"
        ) from exc


def _abandon(popen: subprocess.Popen[bytes]) -> None:
    """A launch that failed half-way: the shim (blocked, or just exec'd) is killed and reaped."""
    with contextlib.suppress(OSError):
        popen.kill()
    popen.wait()
    for stream in (popen.stdin, popen.stdout, popen.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()

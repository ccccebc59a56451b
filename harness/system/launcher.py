"""Start one instance of the system under test, marked, in its own session, its output logged.

The root runs in a new session (so a terminal's Ctrl-C reaches only the harness, which then
tears down in order), with stdin closed and both output streams drained by an
``OutputCapture`` (``harness.system.output``) into bounded ``LogLine`` events on the
timeline (readiness patterns and the ``log`` invariant read them there) and a bounded tail.
The harness never ``wait``s on the root itself: the tracker reaps it through its pidfd, and
``Launched.returncode`` reads the recorded exit.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Mapping
from pathlib import Path

from harness.errors import SystemUnderTestError
from harness.observe.events import ProcessExit, SystemStart
from harness.observe.timeline import Timeline
from harness.system.marker import marker_env
from harness.system.output import OutputCapture, OutputLimits


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


def launch(
    command: list[str],
    *,
    instance: int,
    env: Mapping[str, str],
    cwd: Path,
    timeline: Timeline,
    trial_id: str,
    output: OutputLimits | None = None,
) -> Launched:
    """Start ``command`` marked with ``trial_id``; record ``SystemStart``.

    Raises ``SystemUnderTestError`` (with the reason) when it cannot be started at all.
    """
    if not command:
        raise SystemUnderTestError("the system's command is empty")
    full_env = dict(os.environ)
    full_env.update(env)
    full_env.update(marker_env(trial_id, instance))
    try:
        popen = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
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
    started = timeline.now()
    launched = Launched(popen, instance=instance, timeline=timeline, started=started, limits=output)
    timeline.record(
        SystemStart(
            t=started, instance=instance, pid=popen.pid, command=list(command), cwd=str(cwd)
        )
    )
    launched.start_reading()
    return launched

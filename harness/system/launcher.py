"""Start one instance of the system under test, marked, in its own session, its output logged.

The root runs in a new session (so a terminal's Ctrl-C reaches only the harness, which then
tears down in order), with stdin closed and both output streams read line by line onto the
timeline as ``LogLine`` events (readiness patterns and the ``log`` invariant read them
there). The harness never ``wait``s on the root itself: the tracker reaps it through its
pidfd, and ``Launched.returncode`` reads the recorded exit.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import threading
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from harness.errors import SystemUnderTestError
from harness.observe.events import LogLine, ProcessExit, SystemStart
from harness.observe.timeline import Timeline
from harness.system.marker import marker_env

_CHUNK = 65536
_CLOSE_JOIN_S = 2.0


class Launched:
    """A launched root: its pid, its output tail, and (once reaped) its return code."""

    def __init__(
        self,
        popen: subprocess.Popen[bytes],
        *,
        instance: int,
        timeline: Timeline,
        started: float,
        tail_lines: int,
    ) -> None:
        self.pid = popen.pid
        self.instance = instance
        self.started = started
        """Trial time of the launch."""
        self._popen = popen
        self._timeline = timeline
        self._tail: deque[str] = deque(maxlen=tail_lines)
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = os.pipe()
        self._closed = False
        self._reader = threading.Thread(
            target=self._read, name=f"chaos-output-{self.pid}", daemon=True
        )

    def start_reading(self) -> None:
        """Start turning output into ``LogLine`` events (after ``SystemStart`` is recorded)."""
        self._reader.start()

    # ------------------------------------------------------------------ public

    def output_tail(self) -> list[str]:
        """The last lines the root wrote (stdout and stderr, interleaved as read)."""
        with self._lock:
            return list(self._tail)

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
        return not self._reader.is_alive()

    def wait_output(self, timeout: float) -> bool:
        """Wait until both streams reach end of file (every writer has exited)."""
        self._reader.join(timeout)
        return not self._reader.is_alive()

    def close(self) -> None:
        """Stop reading and close the pipes; idempotent. Call after the tree is gone."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        # Let lines already written drain, then wake the reader if a stray writer holds on.
        if self._reader.ident is None:
            self._reader.start()
        self._reader.join(_CLOSE_JOIN_S if self.returncode is not None else 0.2)
        if self._reader.is_alive():
            os.write(self._wake_w, b"x")
            self._reader.join(_CLOSE_JOIN_S)
        os.close(self._wake_w)
        if not self._reader.is_alive():
            os.close(self._wake_r)
        code = self.returncode
        if code is not None and self._popen.returncode is None:
            # The tracker reaped it: tell Popen, so it never waits on a recycled pid.
            self._popen.returncode = code

    # ------------------------------------------------------------------ reader thread

    def _read(self) -> None:
        streams = {"stdout": self._popen.stdout, "stderr": self._popen.stderr}
        try:
            self._pump_output(streams)
        finally:  # whatever ends the loop, the pipes are ours to close
            for stream in streams.values():
                if stream is not None:
                    stream.close()

    def _pump_output(self, streams: dict[str, IO[bytes] | None]) -> None:
        partial: dict[int, bytes] = {}
        names: dict[int, str] = {}
        with selectors.DefaultSelector() as selector:
            for name, stream in streams.items():
                if stream is not None:
                    fd = stream.fileno()
                    names[fd] = name
                    partial[fd] = b""
                    selector.register(fd, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            open_fds = set(names)
            while open_fds:
                for key, _ in selector.select():
                    fd = int(key.fd)
                    if fd == self._wake_r:
                        open_fds.clear()
                        break
                    data = os.read(fd, _CHUNK)
                    if not data:
                        selector.unregister(fd)
                        open_fds.discard(fd)
                        data = b"\n" if partial[fd] else b""
                    partial[fd] = self._emit(names[fd], partial[fd] + data)

    def _emit(self, stream: str, data: bytes) -> bytes:
        *lines, rest = data.split(b"\n")
        for raw in lines:
            line = raw.rstrip(b"\r").decode("utf-8", "replace")
            with self._lock:
                self._tail.append(line)
            self._timeline.record(
                LogLine(t=self._timeline.now(), instance=self.instance, stream=stream, line=line)
            )
        return rest


def launch(
    command: list[str],
    *,
    instance: int,
    env: Mapping[str, str],
    cwd: Path,
    timeline: Timeline,
    trial_id: str,
    tail_lines: int = 200,
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
    launched = Launched(
        popen, instance=instance, timeline=timeline, started=started, tail_lines=tail_lines
    )
    timeline.record(
        SystemStart(
            t=started, instance=instance, pid=popen.pid, command=list(command), cwd=str(cwd)
        )
    )
    launched.start_reading()
    return launched

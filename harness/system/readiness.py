"""Is the system ready? Every given check (http, tcp, log line, file) must pass in time.

Log patterns are matched against the ``LogLine`` events of the instance, waiting on the
timeline itself, so a line is seen the moment it is recorded; the same wait wakes on the
root's ``ProcessExit``, so a system that dies during start-up fails at once, with its exit
code, its last output and what it left running, instead of after the whole timeout. Http,
tcp and file checks are polled at a short interval. Each passed check stays passed.

The root is looked at again after the checks pass, before ``Ready``: a root that exited
while they ran must not be declared ready because something it left answered for it
(nginx without ``daemon off``: its launcher exits at 13 ms, the daemon answers HTTP at 17).
A system that daemonizes on purpose says so (``system.daemonizes: true``): then its root
is a launcher that must exit, with code 0 (a non-zero code is its way of saying the start
failed, and fails at once); the system is what it leaves running, and it is ready once
the launcher has exited and every check passes, while something of the instance lives.
"""

from __future__ import annotations

import re
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from harness.observe.events import Event, LogLine, NotReady, ProcessExit, Ready
from harness.observe.http import http_json, loopback_target
from harness.observe.timeline import Timeline
from harness.system.sockets import only_ours

_POLL_S = 0.05
_PROBE_TIMEOUT_S = 1.0
_EXIT_CODE_WAIT_S = 2.0
_OURS = "only the harness itself listens there (a squatted port or a proxy), not the system"


@dataclass(frozen=True)
class ReadyChecks:
    """Resolved readiness checks; any subset, all given must pass."""

    http_url: str | None = None
    http_status: int = 200
    tcp_host: str | None = None
    tcp_port: int | None = None
    log_regex: str | re.Pattern[str] | None = None
    file_path: str | None = None
    roles: tuple[tuple[str, int], ...] = ()
    """(role, count): the instance has at least ``count`` live processes of the role."""


@dataclass(frozen=True)
class ReadyOutcome:
    """``ok``; the log pattern's named groups; why not, when not."""

    ok: bool
    groups: dict[str, str] = field(default_factory=dict)
    reason: str = ""


class LaunchedRoot(Protocol):
    """What readiness needs of a launched root (``harness.system.launcher.Launched``)."""

    @property
    def pid(self) -> int: ...

    @property
    def instance(self) -> int: ...

    @property
    def started(self) -> float: ...

    @property
    def returncode(self) -> int | None: ...

    def output_tail(self) -> list[str]: ...


# --------------------------------------------------------------------------- single checks


def check_http(url: str, status: int, timeout: float) -> str | None:
    """None when ``url`` answers ``status``; else what it did instead."""
    try:  # loopback http only: anything else is refused before a socket is looked at
        _, port, _ = loopback_target(url)
    except ValueError as exc:
        return f"http {url}: {exc}"
    # Asked before connecting: the squatter accepts and never answers, so asking after an
    # answer would wait out the timeout while the system may already have exited.
    if only_ours(port):
        return f"http {url}: {_OURS}"
    try:  # loopback only, and no redirect followed: a 302 is the system's answer
        answer = http_json("GET", url, timeout=timeout)
    except ValueError as exc:
        return f"http {url}: {exc}"
    if answer.status is None:
        return f"http {url}: {answer.error}"
    got = answer.status
    return None if got == status else f"http {url}: status {got}, expected {status}"


def check_tcp(host: str, port: int, timeout: float) -> str | None:
    """None when a TCP connection to ``host:port`` is accepted (by the system)."""
    if only_ours(port):  # before connecting: the squatter never accepts, and once its
        return f"tcp {host}:{port}: {_OURS}"  # backlog is full a connect waits out its timeout
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as exc:
        return f"tcp {host}:{port}: {exc.strerror or exc}"


def check_file(path: str) -> str | None:
    """None when ``path`` exists."""
    return None if Path(path).exists() else f"file {path} does not exist"


def check_roles(wanted: tuple[tuple[str, int], ...], live: Callable[[str], int]) -> str | None:
    """None when every role has its count of live processes (``live(role)``)."""
    short = [(role, live(role), count) for role, count in wanted]
    missing = [f"{role} {have} of {count}" for role, have, count in short if have < count]
    return None if not missing else "roles: " + ", ".join(missing) + " live"


# --------------------------------------------------------------------------- the wait


def wait_ready(
    checks: ReadyChecks,
    launched: LaunchedRoot,
    timeline: Timeline,
    *,
    deadline: float,
    is_alive: Callable[[], bool],
    interrupted: Callable[[], bool] = lambda: False,
    daemonizes: bool = False,
    system_alive: Callable[[], bool] | None = None,
    left_behind: Callable[[], list[str]] | None = None,
    roots_known: Callable[[], bool] | None = None,
    role_count: Callable[[str], int] = lambda _role: 0,
) -> ReadyOutcome:
    """Wait until every check passes (``Ready``) or the deadline/root exit (``NotReady``).

    ``interrupted`` (the user pressed Ctrl-C) ends the wait at the next look, within
    about a second (one check's own timeout). ``is_alive``: the root, exactly now;
    ``system_alive``: anything of the instance (with ``daemonizes``); ``roots_known``: the
    daemon's roots are decided (a fault may target them from ``Ready`` on);
    ``left_behind``: what of the instance still runs, named when the root exits first;
    ``role_count``: live processes of a role in the instance (``checks.roles``).
    """

    def root_gone() -> bool:
        return not is_alive() or launched.returncode is not None

    def gone_reason() -> str:
        left = left_behind() if left_behind is not None else []
        # What it left holds its output open: do not wait for the end of it then.
        reason = _exit_reason(timeline, launched, output_wait=0.2 if left else None)
        if left:
            reason += (
                f"; it left running: {', '.join(left[:6])}{', ...' if len(left) > 6 else ''}"
                " (a system that daemonizes on purpose needs `system.daemonizes: true`)"
            )
        return reason

    pattern = (
        re.compile(checks.log_regex) if isinstance(checks.log_regex, str) else checks.log_regex
    )
    pending: dict[str, Callable[[float], str | None]] = {}
    if checks.http_url is not None:
        url, status = checks.http_url, checks.http_status
        pending["http"] = lambda timeout: check_http(url, status, timeout)
    if checks.tcp_port is not None:
        host, port = checks.tcp_host or "127.0.0.1", checks.tcp_port
        pending["tcp"] = lambda timeout: check_tcp(host, port, timeout)
    if checks.file_path is not None:
        path = checks.file_path
        pending["file"] = lambda _timeout: check_file(path)
    if checks.roles:
        wanted = checks.roles
        pending["roles"] = lambda _timeout: check_roles(wanted, role_count)
    groups: dict[str, str] = {}
    log_done = pattern is None
    launcher_done = False
    last_problem = {name: "not checked yet" for name in pending}
    scanned = 0

    def relevant(event: Event) -> bool:
        if isinstance(event, ProcessExit):
            return event.pid == launched.pid
        if isinstance(event, LogLine) and pattern is not None and not log_done:
            return event.instance == launched.instance and pattern.search(event.line) is not None
        return False

    while True:
        # Log lines and the root's exit: event-driven, from where the last look stopped.
        seen = len(timeline)
        for event in timeline.events()[scanned:seen]:
            if relevant(event) and isinstance(event, LogLine) and pattern is not None:
                match = pattern.search(event.line)
                if match is not None and not log_done:
                    groups = {k: v for k, v in match.groupdict().items() if v is not None}
                    log_done = True
        scanned = seen
        if interrupted():
            return _not_ready(timeline, launched, "interrupted before it was ready")
        if daemonizes:
            if not launcher_done and root_gone():
                # Its exit code, once recorded; never its output's end (the daemon holds it).
                timeline.wait_for(
                    lambda e: isinstance(e, ProcessExit) and e.pid == launched.pid,
                    _EXIT_CODE_WAIT_S,
                )
                if launched.returncode != 0:
                    reason = _exit_reason(timeline, launched, output_wait=0.2)
                    reason = reason.replace("the system", "its launcher")
                    return _not_ready(timeline, launched, reason + " (system.daemonizes: true)")
                launcher_done = True
            if launcher_done and system_alive is not None and not system_alive():
                return _not_ready(
                    timeline,
                    launched,
                    "its launcher exited with code 0, and nothing it started is left"
                    " (system.daemonizes: true)",
                )
        elif root_gone():
            return _not_ready(timeline, launched, gone_reason(), at=_exit_t(timeline, launched))
        for name in list(pending):
            remaining = deadline - time.monotonic()
            problem = pending[name](max(0.05, min(_PROBE_TIMEOUT_S, remaining)))
            if problem is None:
                del pending[name]
            else:
                last_problem[name] = problem
        if log_done and not pending:
            if not daemonizes and root_gone():  # it died while the checks ran
                reason = gone_reason()
                return _not_ready(timeline, launched, reason, at=_exit_t(timeline, launched))
            if not daemonizes or (launcher_done and (roots_known is None or roots_known())):
                return _ready(timeline, launched, groups)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            missing = [last_problem[name] for name in pending]
            if not log_done:
                missing.append(f"no output line matched {pattern.pattern if pattern else ''!r}")
            if daemonizes and not launcher_done:
                missing.append("its launcher has not exited (system.daemonizes: true)")
            return _not_ready(timeline, launched, "not ready in time: " + "; ".join(missing))
        timeline.wait_for(relevant, min(_POLL_S, remaining), since=scanned)


def _exit_reason(
    timeline: Timeline, launched: LaunchedRoot, *, output_wait: float | None = None
) -> str:
    """Why the root is gone, with its exit code once the tracker has recorded it."""
    timeline.wait_for(
        lambda e: isinstance(e, ProcessExit) and e.pid == launched.pid, _EXIT_CODE_WAIT_S
    )
    wait_output = getattr(launched, "wait_output", None)
    if callable(wait_output):  # so the output tail holds its last words
        wait_output(_EXIT_CODE_WAIT_S if output_wait is None else output_wait)
    code = launched.returncode
    if code is None:
        return "the system exited before it was ready"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        return f"the system was killed by {name} before it was ready"
    return f"the system exited with code {code} before it was ready"


def _ready(timeline: Timeline, launched: LaunchedRoot, groups: dict[str, str]) -> ReadyOutcome:
    now = timeline.now()
    timeline.record(
        Ready(t=now, instance=launched.instance, elapsed_s=now - launched.started, groups=groups)
    )
    return ReadyOutcome(ok=True, groups=groups)


def _exit_t(timeline: Timeline, launched: LaunchedRoot) -> float | None:
    """When the root's exit was seen (its ``ProcessExit``), if it is on the timeline."""
    for event in reversed(timeline.events()):
        if isinstance(event, ProcessExit) and event.pid == launched.pid:
            return event.t
    return None


def _not_ready(
    timeline: Timeline, launched: LaunchedRoot, reason: str, *, at: float | None = None
) -> ReadyOutcome:
    """Record ``NotReady``: ``at`` the root's exit when that is why (the reason's wait for
    its exit code and last output must not make the record late), else now."""
    now = timeline.now()
    timeline.record(
        NotReady(
            t=now if at is None else min(at, now),
            instance=launched.instance,
            reason=reason,
            output_tail=launched.output_tail(),
        )
    )
    return ReadyOutcome(ok=False, reason=reason)

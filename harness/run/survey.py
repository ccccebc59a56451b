"""``chaos init``'s look at a system: run a command under the harness and record its shape.

The command runs as a trial's system does (contained, tracked, torn down like any trial,
so nothing leaks), with no roles, faults or invariants: it is watched for at most
``watch`` seconds, or until it is up (a port or an output line) and nothing new has
happened for ``quiet`` seconds (no process started or ended or waiting for its exec, no
port opened, no output line).
What was seen becomes a ``Survey``: every process (its parent, command line, whether it
was forked without exec), every listening port, the first output lines, how each loopback
port answers HTTP, and how teardown went. ``draft.py`` turns it into a scenario.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from harness.observe.events import (
    Event,
    LogLine,
    Phase,
    PortListen,
    ProcessExit,
    ProcessStart,
    Teardown,
    TeardownStep,
)
from harness.observe.http import http_json
from harness.run.catalog import scenario_from_mapping
from harness.run.system import RunningSystem
from harness.scenario.templates import escape
from harness.spec.loopback import WILDCARDS, is_loopback

__all__ = ["HTTP_PATHS", "Seen", "Survey", "survey"]

HTTP_PATHS = ("/", "/health", "/healthz", "/status")
"""Paths tried on a loopback port, in order: the first to answer 2xx is the workload's."""
_LINES_KEPT = 40


@dataclass(frozen=True)
class Seen:
    """One process of the system as it was first seen."""

    pid: int
    ppid: int
    cmdline: tuple[str, ...]
    started: float
    root: bool = False
    forked: bool = False
    """Its command line was its parent's: forked, never exec'd (a pre-fork worker)."""
    exit_t: float | None = None
    ended_alone: bool = False
    """It exited before teardown began (short-lived: a helper, a failed start)."""
    killed_by_teardown: bool = False


@dataclass(frozen=True)
class Survey:
    """What ``survey`` saw; times are seconds from the launch."""

    command: tuple[str, ...]
    processes: tuple[Seen, ...]
    ports: tuple[PortListen, ...]
    lines: tuple[str, ...]
    http: dict[int, tuple[str, int]] = field(default_factory=dict)
    """Port → (path, status) of its first answer among ``HTTP_PATHS`` (2xx preferred)."""
    watched_s: float = 0.0
    root_exited: bool = False
    """The root ended on its own while watched (with ``root_code``)."""
    root_code: int | None = None


def survey(command: Sequence[str], *, watch: float = 5.0, quiet: float = 1.0) -> Survey:
    """Run ``command`` under the harness for at most ``watch`` s and say what it did."""
    scenario = scenario_from_mapping(
        {
            "name": "chaos-init",
            "timeout": f"{watch + 30:g}s",
            "duration": f"{watch:g}s",
            "system": {
                "command": [_runnable(index, part) for index, part in enumerate(command)],
                "stop": {"grace": "3s"},
            },
        }
    )
    system = RunningSystem(scenario)
    http: dict[int, tuple[str, int]] = {}
    try:
        system.start()
        launched = time.monotonic()
        _watch(system, launched, watch, quiet)
        watched = time.monotonic() - launched
        for event in system.timeline.events():
            if not isinstance(event, PortListen) or event.port in http:
                continue
            if is_loopback(event.address) or event.address in WILDCARDS:
                answer = _http_answer(event.port)
                if answer is not None:
                    http[event.port] = answer
    finally:
        system.close()
    return _summarise(tuple(command), system.timeline.events(), http, watched)


def _runnable(index: int, part: str) -> str:
    """A command's word as a scenario holds it: ``python`` is the harness's interpreter
    (``{python}``, as ``requires`` means it), every other brace literal."""
    if index == 0 and part in ("python", "python3"):
        return "{python}"
    return escape(part)


def _watch(system: RunningSystem, launched: float, watch: float, quiet: float) -> None:
    """Until ``watch`` is up, the root is gone, or it is up and quiet for ``quiet`` s.

    Up: it has listened on a port or written a line. Quiet: no process started or ended,
    no port opened, no line written, and no child still waiting for its exec.
    """
    timeline = system.timeline
    news = (ProcessStart, ProcessExit, PortListen, LogLine)
    up = (PortListen, LogLine)
    last_news = launched
    seen = 0
    shown = False
    while True:
        now = time.monotonic()
        if now - launched >= watch:
            return
        if system.tracker.pending():
            last_news = now
        if quiet > 0 and shown and now - last_news >= quiet:
            return
        if not any(system.tracker.is_alive(p.pid) for p in system.launched):
            return
        count = len(timeline)
        fresh = timeline.events()[seen:count]
        if any(isinstance(e, news) for e in fresh):
            last_news = now
        shown = shown or any(isinstance(e, up) for e in fresh)
        seen = count
        timeline.wait_for(lambda e: isinstance(e, news), 0.05, since=seen)


def _http_answer(port: int) -> tuple[str, int] | None:
    """The first of ``HTTP_PATHS`` to answer 2xx, else the first answer at all."""
    first: tuple[str, int] | None = None
    for path in HTTP_PATHS:
        # Loopback only, no redirect followed: a system's 302 is its answer, never a
        # request the harness sends elsewhere.
        answer = http_json("GET", f"http://127.0.0.1:{port}{path}", timeout=1.0)
        if answer.status is None:
            return first  # not HTTP (or gone): nothing more to learn here
        status = answer.status
        if 200 <= status < 300:
            return path, status
        first = first or (path, status)
    return first


def _summarise(
    command: tuple[str, ...], events: list[Event], http: dict[int, tuple[str, int]], watched: float
) -> Survey:
    starts = [e for e in events if isinstance(e, ProcessStart)]
    exits = {e.pid: e for e in events if isinstance(e, ProcessExit)}
    swept = {
        e.pid
        for e in events
        if isinstance(e, Teardown) and e.action is not TeardownStep.STOP and e.pid is not None
    }
    stop_t = next((e.t for e in events if isinstance(e, Phase) and e.name == "teardown"), None)
    by_pid = {s.pid: s for s in starts}
    seen: list[Seen] = []
    for start in starts:
        parent = by_pid.get(start.ppid)
        exit_event = exits.get(start.pid)
        seen.append(
            Seen(
                pid=start.pid,
                ppid=start.ppid,
                cmdline=tuple(start.cmdline),
                started=start.t,
                root=start.root,
                forked=parent is not None and start.cmdline == parent.cmdline,
                exit_t=exit_event.t if exit_event is not None else None,
                ended_alone=exit_event is not None and (stop_t is None or exit_event.t < stop_t),
                killed_by_teardown=start.pid in swept,
            )
        )
    root = next((s for s in seen if s.root), None)
    root_exit = exits.get(root.pid) if root is not None else None
    exited_alone = root_exit is not None and (stop_t is None or root_exit.t < stop_t)
    return Survey(
        command=command,
        processes=tuple(seen),
        ports=tuple(e for e in events if isinstance(e, PortListen)),
        lines=tuple(e.line for e in events if isinstance(e, LogLine))[:_LINES_KEPT],
        http=http,
        watched_s=watched,
        root_exited=exited_alone,
        root_code=root_exit.code if exited_alone and root_exit is not None else None,
    )

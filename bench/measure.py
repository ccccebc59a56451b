"""The measurements, each taken by the harness on a live contender (``SystemSession``).

The harness starts the contender as a system under test (its own session, tracked by pidfds,
torn down whatever happens), injects the kills, and judges ``recovers`` (until ``ready``) on
the recorded timeline: the per-fault phases in ``metrics["recoveries"]`` are the figures.
Two clocks outside the harness check them in the same run: the bench's watcher process
(``bench.watch``: the worker's port answered by the new pid) and, where the supervisor
prints one, its own ``(t=...)`` reading in the ready line (testbed, floor of modules).

The bench waits on the timeline (event-driven, with deadlines); the only sleeps are the
pauses between kills (drawn at random over the contender's own check period, so kills land
at a random phase of its loop) and the idle and crash-loop windows, which are what they
measure.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import psutil

from bench.contenders import READY, REPO, Contender, Setup
from harness import LogLine, ProcessExit, ProcessStart, SystemSession, scenario_from_mapping
from harness.invariants.role_ready import SIGHTING_LAG_S
from harness.observe.events import Event

READY_RE = re.compile(READY)
OWN_CLOCK = re.compile(r"pid (?P<pid>\d+) ready \(t=(?P<t>[\d.]+)\)")
CANNOT_BIND = re.compile(r"cannot bind 127\.0\.0\.1:\d+")
GAVE_UP = re.compile(r"\bgave up\b")
"""The supervisor's own word for giving up on a worker (the testbed's and supervisord's)."""
LOST_OUTPUT = re.compile(r"error in '[^']+': fd \d+ added twice")
"""circus 0.19, respawning many workers at once: a new pipe reuses the number of a closed
one whose handler is still registered, and the new worker's output is never read."""
DEADLINE_S = 60.0
"""Generous: a recovery that takes this long is reported as never recovered."""


class BenchError(RuntimeError):
    """A contender did not do what a measurement needs (never ready, never recovered)."""


# --------------------------------------------------------------------------- one live system


@dataclass
class View:
    """What the bench reads off the timeline as it grows: live processes, ready lines."""

    alive: dict[int, str | None] = field(default_factory=dict)
    """pid → role, for every live process of the system."""
    ready: dict[int, float] = field(default_factory=dict)
    """pid → trial time of its first ready line."""
    own: dict[int, float] = field(default_factory=dict)
    """pid → the supervisor's own clock reading in that line (``t=``), when it prints one."""
    starts: list[tuple[float, int, str | None]] = field(default_factory=list)
    crash_lines: list[float] = field(default_factory=list)
    gave_up: list[float] = field(default_factory=list)
    lost_output: list[float] = field(default_factory=list)

    def apply(self, event: Event) -> None:
        if isinstance(event, ProcessStart):
            self.alive[event.pid] = event.role
            self.starts.append((event.t, event.pid, event.role))
        elif isinstance(event, ProcessExit):
            self.alive.pop(event.pid, None)
        elif isinstance(event, LogLine):
            match = READY_RE.search(event.line)
            if match is not None:
                pid = int(match["pid"])
                self.ready.setdefault(pid, event.t)
                own = OWN_CLOCK.search(event.line)
                if own is not None:
                    self.own.setdefault(pid, float(own["t"]))
            elif CANNOT_BIND.search(event.line):
                self.crash_lines.append(event.t)
            elif GAVE_UP.search(event.line):
                self.gave_up.append(event.t)
            elif LOST_OUTPUT.search(event.line):
                self.lost_output.append(event.t)

    def workers(self) -> set[int]:
        return {pid for pid, role in self.alive.items() if role == "worker"}

    def fresh_ready(self, old: set[int]) -> set[int]:
        """Live workers not in ``old`` that have said they are ready."""
        return {pid for pid in self.workers() - old if pid in self.ready}


class Live:
    """A contender running under the harness, every worker ready."""

    def __init__(self, contender: Contender, folder: Path, setup: Setup) -> None:
        self.contender = contender
        self.setup = setup
        scenario = scenario_from_mapping(contender.scenario(folder, setup))
        self.session = SystemSession(scenario)
        self.view = View()
        self._index = 0

    def __enter__(self) -> Live:
        try:
            self.session.start()
            self.session.wait_ready()
            if not self.wait(lambda: len(self.view.fresh_ready(set())) >= self.setup.count):
                raise BenchError(f"{self.contender.key}: not every worker became ready")
        except BaseException:
            self.session.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.session.close()

    @property
    def t0(self) -> float:
        """The monotonic reading that is trial time 0."""
        return self.session.timeline.t0

    def wait(self, done: Callable[[], bool], timeout: float = DEADLINE_S) -> bool:
        """Read new events into the view until ``done()`` holds, or ``timeout``."""

        def step(event: Event) -> bool:
            self._index += 1
            self.view.apply(event)
            return done()

        if done() and self._index == len(self.session.timeline):
            return True
        found = self.session.timeline.wait_for(step, timeout, since=self._index)
        return found is not None or done()

    def catch_up(self) -> None:
        self.wait(lambda: False, 0.0)

    def replaced(self, old: set[int], count: int, timeout: float) -> set[int]:
        """Wait until ``count`` new workers are live and ready (or ``timeout``); the new
        ready workers' pids."""
        self.wait(lambda: len(self.view.fresh_ready(old)) >= count, timeout)
        return self.view.fresh_ready(old)

    def recoveries(self) -> list[dict[str, Any]]:
        """The harness's verdict on every kill so far: one phase record per fault."""
        result = self.session.check("recovers", role="worker", within="60s", until="ready")
        records = result.metrics.get("recoveries", [])
        assert isinstance(records, list)
        return records

    def root(self) -> int:
        (root,) = [p.pid for p in self.session.processes("supervisor")]
        return root


# --------------------------------------------------------------------------- the watcher


class Watcher:
    """The bench's own clock (``bench.watch``), one process per series."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-S", "-m", "bench.watch"],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def arm(self, ports: tuple[int, ...], interval: float) -> dict[int, int | None]:
        """Start watching; returns the pid answering on each port now."""
        assert self.proc.stdin is not None
        request = {"ports": list(ports), "interval": interval, "timeout": DEADLINE_S}
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        armed = self._read()["armed"]
        return {int(port): pid for port, pid in armed.items()}

    def collect(self) -> dict[int, tuple[int, float]]:
        """Per port, the new pid and when (monotonic) it first answered."""
        answered = self._read()["answered"]
        return {int(port): (int(pid), float(t)) for port, (pid, t) in answered.items()}

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise BenchError("the watcher process ended")
        value = json.loads(line)
        assert isinstance(value, dict)
        return value

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


# --------------------------------------------------------------------------- results


@dataclass
class Kill:
    """One kill (of one worker, or of every worker at once), by every clock."""

    t_kill: float
    """Monotonic, taken by the bench just before asking the harness to kill."""
    died_s: float | None = None
    spawned_s: float | None = None
    ready_s: float | None = None
    """The harness's phases (``recovers``), seconds after its fault action."""
    ready_at: float | None = None
    """The harness's ready, as a monotonic reading."""
    line_at: float | None = None
    """When the harness recorded the replacement's ready line (the last, for many), as the
    bench read it off the same timeline (monotonic)."""
    answered_s: float | None = None
    """The bench's watcher: kill → the port answered by a new pid (the last port of all)."""
    own_at: float | None = None
    """The supervisor's own clock reading in its ready line (``t=``), when it prints one."""
    same_pid: bool | None = None
    """The watcher's new pids include every one that said it was ready."""
    unseen: int = 0
    """New processes that answered the watcher but whose ready line never came."""

    def fill(self, record: dict[str, Any], t0: float) -> None:
        self.died_s, self.spawned_s = record.get("died_s"), record.get("spawned_s")
        self.ready_s = record.get("ready_s")
        if self.ready_s is not None:
            self.ready_at = t0 + float(record["t"]) + self.ready_s

    @property
    def attributed(self) -> bool:
        """The harness's ready is this replacement's: its own ready line, or, when the
        tracker first saw the process only after that line (a busy machine), its sighting
        right after it (``role_ready._live`` counts it from there, within
        ``SIGHTING_LAG_S``): never an earlier process's line nor a later one's."""
        if self.ready_at is None or self.line_at is None:
            return False
        return -1e-4 < self.ready_at - self.line_at <= SIGHTING_LAG_S

    @property
    def gap_s(self) -> float | None:
        """Watcher's answer minus the harness's ready (both monotonic)."""
        if self.answered_s is None or self.ready_at is None:
            return None
        return self.t_kill + self.answered_s - self.ready_at

    @property
    def own_gap_s(self) -> float | None:
        """The supervisor's own clock minus the harness's ready (both monotonic)."""
        if self.own_at is None or self.ready_at is None:
            return None
        return self.own_at - self.ready_at


@dataclass
class Idle:
    supervisor_pct: float
    children_pct: float
    children: int

    @property
    def total_pct(self) -> float:
        return self.supervisor_pct + self.children_pct


@dataclass
class Orphans:
    left: int
    of: int
    harness_count: int | None
    """``no_orphans``' own count of the same."""
    after_teardown: int
    """Still alive after the harness's teardown (then ended by the bench)."""


@dataclass
class CrashLoop:
    window_s: float
    starts: int
    """Worker processes the harness saw start in the window."""
    crash_lines: int
    """"cannot bind" lines the workers printed (their own count of the same)."""
    last_start_s: float | None
    cpu_pct: float
    """The supervisor and the children it reaped, over the window."""
    gave_up_s: float | None
    """When the supervisor said it gave up (its own log line), if it did."""
    back_s: float | None
    """The port freed → a new worker ready (None: not within the wait)."""
    back_wait_s: float


# --------------------------------------------------------------------------- measurements


UP_S = 1.5
"""A worker is killed only after it has been up this long: longer than supervisord's
``startsecs`` (1 s), within which a death counts as a failed start (backoff, then FATAL)
rather than a crash to restart."""


def pause(rng: random.Random, contender: Contender, since: float) -> None:
    """Pacing before a kill, not a wait on a condition: the worker (ready at ``since``,
    monotonic) has been up ``UP_S``, then a random phase of the contender's own loop."""
    settle = max(0.0, since + UP_S - time.monotonic())
    time.sleep(settle + rng.uniform(0.0, max(contender.period_s, 0.2)))


LINES_GRACE_S = 5.0
"""Once the watcher has seen every port answered by a new process, how long the bench
still waits for their ready lines before it counts them as lost by the supervisor."""


def kill_one(live: Live, watcher: Watcher | None) -> Kill:
    """SIGKILL the one worker; wait until its replacement is ready (and answers)."""
    return kill(live, watcher, every=False, interval=0.001)


def kill_all(live: Live, watcher: Watcher | None) -> Kill:
    """SIGKILL every worker at once; wait until all replacements are ready (and answer)."""
    return kill(live, watcher, every=True, interval=0.01)


def kill(live: Live, watcher: Watcher | None, *, every: bool, interval: float) -> Kill:
    """One kill, seen by every clock. With a watcher, a port answered by a new process
    whose ready line never reaches the harness (a supervisor that lost the worker's
    output) is counted (``unseen``) instead of waited for."""
    ports = live.setup.ports
    if watcher is not None:
        watcher.arm(ports, interval=interval)
    live.catch_up()
    old = live.view.workers()
    count = len(old) if every else 1
    result = Kill(t_kill=time.monotonic())
    live.session.kill("worker", **({"count": "all"} if every else {}))
    answered = watcher.collect() if watcher is not None else {}
    if len(answered) < len(ports):
        raise BenchError(f"{live.contender.key}: not answered by a new process in {DEADLINE_S:g}s")
    fresh = live.replaced(old, count, LINES_GRACE_S if watcher is not None else DEADLINE_S)
    if watcher is None and len(fresh) < count:
        raise BenchError(f"{live.contender.key}: no ready replacement in {DEADLINE_S:g}s")
    result.unseen = count - len(fresh)
    if not result.unseen:
        result.line_at = live.t0 + max(live.view.ready[pid] for pid in fresh)
        owns = [live.view.own[pid] for pid in fresh if pid in live.view.own]
        result.own_at = max(owns) if len(owns) == len(fresh) else None
    if answered:
        result.answered_s = max(t for _, t in answered.values()) - result.t_kill
        result.same_pid = {pid for pid, _ in answered.values()} >= fresh
    return result


def judged(live: Live, kills: list[Kill]) -> list[Kill]:
    """Fill each kill with the harness's phases (its faults are in the same order)."""
    records = live.recoveries()
    if len(records) != len(kills):
        raise BenchError(f"{live.contender.key}: {len(kills)} kills, {len(records)} judged")
    for kill, record in zip(kills, records, strict=True):
        kill.fill(record, live.t0)
    return kills


def cpu_ns(pid: int) -> int:
    """CPU time of every live thread of ``pid`` (ns, from schedstat; 0 if gone)."""
    total = 0
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat", "rb") as handle:
                total += int(handle.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return total


def idle(live: Live, window: float, settle: float = 3.0) -> Idle:
    """CPU of the supervisor and of its children over ``window`` idle seconds."""
    time.sleep(settle)  # the restarts just measured are over before the window opens
    root = live.root()
    kids = [p.pid for p in live.session.processes() if p.pid != root and p.alive]
    sup0, kids0, t0 = cpu_ns(root), sum(cpu_ns(k) for k in kids), time.monotonic()
    time.sleep(window)
    sup1, kids1, t1 = cpu_ns(root), sum(cpu_ns(k) for k in kids), time.monotonic()
    scale = 100.0 / ((t1 - t0) * 1e9)
    return Idle((sup1 - sup0) * scale, (kids1 - kids0) * scale, len(kids))


def orphans(live: Live, linger: float = 2.0) -> Orphans:
    """SIGKILL the supervisor itself; its children still alive ``linger`` s later.

    Then the harness tears the system down (it sweeps survivors: they were re-parented to
    it, its child subreaper); anything still alive after that, found by the pid and start
    time recorded here, is ended by the bench through a pidfd and counted.
    """
    live.catch_up()
    root = live.root()
    kids = {pid for pid in live.view.alive if pid != root}
    started = {pid: create_time(pid) for pid in kids}
    live.session.kill("supervisor")
    live.wait(lambda: not kids & set(live.view.alive), linger)
    left = len(kids & set(live.view.alive))
    live.session.close()
    verdict = live.session.check("no_orphans", within=f"{linger:g}s")
    count = verdict.metrics.get("orphans")
    survivors = [pid for pid, t in started.items() if t is not None and running(pid, t)]
    for pid in survivors:
        end(pid)
    reap(kids)
    return Orphans(left, len(kids), count if isinstance(count, int) else None, len(survivors))


def create_time(pid: int) -> float | None:
    try:
        return float(psutil.Process(pid).create_time())
    except psutil.Error:
        return None


def running(pid: int, started: float) -> bool:
    """The process recorded as ``pid`` (same start time) is still running (not a zombie)."""
    try:
        proc = psutil.Process(pid)
        return proc.create_time() == started and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def reap(pids: set[int]) -> None:
    """Collect any of ``pids`` that died re-parented to this process (the harness is its
    child subreaper) and that nobody reaped: a child that exits in the instant its
    supervisor is SIGKILLed can be re-parented only after the harness's ``waitid`` said
    "not my child"."""
    reaped = []
    for pid in pids:
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                reaped.append(pid)
    if reaped:
        print(f"  reaped {len(reaped)} zombie(s) left re-parented to the bench", file=sys.stderr)


def end(pid: int) -> None:
    """SIGKILL through a pidfd (never a recycled pid: the start time was checked)."""
    with contextlib.suppress(OSError):
        fd = os.pidfd_open(pid)
        try:
            signal.pidfd_send_signal(fd, signal.SIGKILL)
        finally:
            os.close(fd)


def crash_loop(live: Live, window: float, back_wait: float) -> CrashLoop:
    """Make every start of the worker fail (its port taken), for ``window`` seconds.

    The bench kills the worker and binds its port itself the moment it is free: each new
    worker prints ``cannot bind`` and exits 1. What the supervisor does then (how often it
    restarts, whether it gives up, what that costs) is the figure; then the port is freed
    and the bench waits up to ``back_wait`` for a ready worker.
    """
    (port,) = live.setup.ports
    live.catch_up()
    old = live.view.workers()
    root = psutil.Process(live.root())
    t_kill = live.session.timeline.now()
    live.session.kill("worker")
    squat = occupy(port)
    try:
        cpu0, w0 = cpu_with_children(root), time.monotonic()
        time.sleep(window)  # the window is the measurement
        cpu1, w1 = cpu_with_children(root), time.monotonic()
    finally:
        squat.close()
    t_free = live.session.timeline.now()
    back = live.wait(lambda: bool(live.view.fresh_ready(old)), back_wait)
    end_t = t_kill + window
    starts = [t for t, pid, role in live.view.starts if role == "worker" and t_kill < t <= end_t]
    crashes = [t for t in live.view.crash_lines if t_kill < t <= end_t]
    back_s = None
    if back:
        back_s = min(live.view.ready[p] for p in live.view.fresh_ready(old)) - t_free
    return CrashLoop(
        window_s=window,
        starts=len(starts),
        crash_lines=len(crashes),
        last_start_s=(max(starts) - t_kill) if starts else None,
        cpu_pct=(cpu1 - cpu0) / (w1 - w0) * 100,
        gave_up_s=next((t - t_kill for t in live.view.gave_up if t > t_kill), None),
        back_s=back_s,
        back_wait_s=back_wait,
    )


def occupy(port: int, timeout: float = 5.0) -> socket.socket:
    """Bind and listen on ``port`` as soon as the killed worker has let go of it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    deadline = time.monotonic() + timeout
    while True:
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen(16)
            return sock
        except OSError:
            if time.monotonic() > deadline:
                sock.close()
                raise BenchError(f"port {port} never came free for the crash loop") from None
            time.sleep(0.0005)  # retry the bind: the dying worker's socket closes any moment


def cpu_with_children(proc: psutil.Process) -> float:
    """CPU seconds of ``proc`` and of every child it has reaped."""
    try:
        times = proc.cpu_times()
    except psutil.Error:
        return 0.0
    return float(times.user + times.system + times.children_user + times.children_system)


def median(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]

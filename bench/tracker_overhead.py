"""Benchmark: the process tracker's sources side by side: kernel events vs /proc scans.

Run: ``.venv/bin/python bench/tracker_overhead.py [--sizes 10,100,1000] [--samples 100]``
(as root for kernel events and cgroups; about 3 minutes at the defaults).

Trackers run side by side in one run, on the same process tree at the same moment, each in
a worker process of its own (so no tracker waits for another's hold on the GIL):

- ``events``: kernel process events (the netlink proc connector) and the tree's cgroup;
  its CPU is its thread's plus the event hub's thread (which reads the whole machine's
  events, so it is charged here in full);
- ``scan+cg``: /proc scans of the tree's cgroup (``cgroup.procs``), no events;
- ``scan``: /proc scans of every tracked process's children, no cgroup: the fallback, as
  the tracker worked before kernel events and cgroups.

For each size (idle processes: ``sleep`` children of one root, the root in a cgroup of its
own), measured:

1. idle CPU of each tracker over ``--window`` seconds after start-up heat has passed (%
   of one core, thread CPU clocks);
2. spawn seen: the root forks a child; latency = ``ProcessStart.t`` (when the tracker first
   saw it) minus the instant of the fork. That instant is the kernel's own timestamp of the
   fork (CLOCK_MONOTONIC, read by the bench on a connector socket of its own, apart from
   the trackers) where the connector works, else the ``time.monotonic()`` the root read
   just before calling ``fork`` (the fork's own cost, ~0.5 ms for a Python parent, is then
   counted too). ``hot``: each spawn follows the
   previous by 10-60 ms (a replacement expected: scans run every 5 ms); ``idle``: it
   follows ``hot_for`` + 0.3-0.8 s of quiet (scans every 25 ms);
3. exit seen: SIGKILL through one tracker's pidfd -> each tracker's ``ProcessExit.t``.

p50 and p99 are printed (with few samples p99 is the largest). Targets with kernel events:
spawn seen <= 1 ms p99, idle CPU <= 0.5 % of a core at 1000 processes; the scan fallback
no worse than before.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import random
import resource
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.errors import HostError  # noqa: E402
from harness.observe.events import Event, ProcessExit, ProcessStart  # noqa: E402
from harness.observe.timeline import Timeline  # noqa: E402
from harness.system import cgroups, host, procevents  # noqa: E402
from harness.system.containment import RunScope, TrialCgroup  # noqa: E402
from harness.system.subreaper import become_subreaper  # noqa: E402
from harness.system.tracker import ProcessTracker, RoleMatcher  # noqa: E402

# The tracked root: waits for "go" (it is put in its cgroup meanwhile), starts N idle
# children, then one more child per line read on stdin, writing its pid and the monotonic
# instant just before the fork (the child execs sleep).
ROOT = r"""
import os, signal, sys, time
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
sys.stdin.readline()
for _ in range(int(sys.argv[1])):
    if os.fork() == 0:
        os.execv("/bin/sleep", ["sleep", "3600"])
print("ready", flush=True)
for _ in sys.stdin:
    asked = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.execv("/bin/sleep", ["sleep", "3600"])
    os.write(1, f"{pid} {asked:.9f}\n".encode())
"""
HOT_FOR_S = 2.0
DEADLINE_S = 30.0
ROLES = [RoleMatcher("root", root=True), RoleMatcher("child")]


class Tracked:
    """One tracker under test, in a worker process; asked over a pipe."""

    def __init__(self, name: str, cgroup: TrialCgroup | None, events: bool) -> None:
        self.name = name
        context = multiprocessing.get_context("spawn")
        self._conn, theirs = context.Pipe()
        where = (str(cgroup.path), str(cgroup.mount.point), cgroup.mount.root) if cgroup else None
        self._proc = context.Process(
            target=worker, args=(theirs, where, events), name=f"tracker-{name}", daemon=True
        )
        self._proc.start()
        theirs.close()

    def ask(self, *request: object) -> Any:
        self._conn.send(request)
        answer = self._conn.recv()
        if isinstance(answer, Exception):
            raise RuntimeError(f"{self.name}: {answer}")
        return answer

    def close(self) -> None:
        with contextlib.suppress(OSError, EOFError):
            self.ask("stop")
        self._proc.join(DEADLINE_S)


def worker(conn: Connection, where: tuple[str, str, str] | None, events: bool) -> None:
    """A tracker of its own (with the event hub, if ``events``), answering the bench."""
    become_subreaper()
    cgroup = None
    if where is not None:
        path, point, root = where
        cgroup = TrialCgroup(cgroups.Cgroup(Path(path)), cgroups.Mount(Path(point), root), 1)
    hub = procevents.acquire() if events else None
    timeline = Timeline()
    t0 = -timeline.at(0.0)
    tracker = ProcessTracker(timeline, ROLES, hot_for=HOT_FOR_S, cgroup=cgroup, events=hub)
    tracker.start()

    def cpu() -> float:
        return tracker.cpu_time() + (hub.cpu_time() if hub is not None else 0.0)

    def seen(kind: type[Event], pid: int) -> float:
        return t0 + event_t(timeline, kind, pid)

    try:
        while True:
            request = conn.recv()
            try:
                what = request[0]
                if what == "stop":
                    conn.send(None)
                    return
                if what == "root":
                    tracker.add_root(request[1], 0, command=["python", "root"])
                    answer: object = None
                elif what == "count":
                    want: int = request[1]
                    wait(
                        lambda want=want: len(tracker.processes()) == want,  # type: ignore[misc]
                        f"{want} tracked ({len(tracker.processes())} now)",
                    )
                    answer = None
                elif what == "cpu":
                    answer = cpu()
                elif what == "events":
                    answer = hub.datagrams if hub is not None else None
                elif what == "start":
                    answer = seen(ProcessStart, request[1])
                elif what == "exit":
                    answer = seen(ProcessExit, request[1])
                else:
                    raise ValueError(f"unknown request {what!r}")
            except Exception as exc:  # the bench reports it
                answer = exc
            conn.send(answer)
    finally:
        tracker.stop()
        if hub is not None:
            procevents.release(hub)


class ForkClock:
    """The kernel's timestamp of each fork by one parent (the bench's own connector socket)."""

    def __init__(self) -> None:
        self._sock = procevents.open_socket()
        self._parent = 0
        self._forks: dict[int, float] = {}
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def watch(self, parent: int) -> None:
        self._parent = parent

    def fork_of(self, child: int) -> float | None:
        with self._changed:
            self._changed.wait_for(lambda: child in self._forks, timeout=1.0)
            return self._forks.pop(child, None)

    def _read(self) -> None:
        header = struct.calcsize("=IHHII") + struct.calcsize("=IIIIHH")
        with contextlib.suppress(OSError):
            while True:
                data = self._sock.recv(65536)
                what, _, stamp = struct.unpack_from("=IIQ", data, header)
                if what != procevents.PROC_EVENT_FORK:
                    continue
                _, ptgid, cpid, ctgid = struct.unpack_from("=IIII", data, header + 16)
                if ptgid == self._parent and cpid == ctgid:
                    with self._changed:
                        self._forks[ctgid] = stamp / 1e9
                        self._changed.notify_all()

    def close(self) -> None:
        self._sock.close()


class Tree:
    """One root with ``n`` idle children (in ``cgroup`` if given), tracked by every tracker."""

    def __init__(
        self,
        n: int,
        trackers: list[Tracked],
        cgroup: TrialCgroup | None,
        clock: ForkClock | None,
    ) -> None:
        self.trackers = trackers
        self.clock = clock
        self.proc = subprocess.Popen(
            [sys.executable, "-c", ROOT, str(n)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert self.proc.stdout is not None
        assert self.proc.stdin is not None
        if clock is not None:
            clock.watch(self.proc.pid)
        for each in trackers:  # tracked first: then the cgroup's listing knows it
            each.ask("root", self.proc.pid)
        if cgroup is not None:
            cgroup.leaves[0].add(self.proc.pid)
        self.proc.stdin.write(b"go\n")
        self.proc.stdin.flush()
        assert self.proc.stdout.readline() == b"ready\n"
        for each in trackers:
            each.ask("count", n + 1)
        self.children: list[int] = []

    def spawn(self) -> tuple[int, float]:
        """Ask the root for one more child: (pid, monotonic instant of its fork)."""
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(b"x\n")
        self.proc.stdin.flush()
        pid, asked = self.proc.stdout.readline().split()
        forked = self.clock.fork_of(int(pid)) if self.clock is not None else None
        return int(pid), forked if forked is not None else float(asked)

    def close(self) -> None:
        """End the root and every child (pidfds: no recycled pid is ever hit)."""
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        for pid in procfs_children(self.proc.pid):
            kill(pid)
        self.proc.stdin.close()
        self.proc.wait(DEADLINE_S)
        self.proc.stdout.close()
        for each in self.trackers:
            each.ask("count", 0)


def procfs_children(pid: int) -> list[int]:
    from harness.system import procfs

    return procfs.children(pid)


def kill(pid: int) -> float:
    """SIGKILL ``pid`` through a pidfd; the monotonic instant it was sent."""
    fd = os.pidfd_open(pid)
    try:
        sent = time.monotonic()
        signal.pidfd_send_signal(fd, signal.SIGKILL)
        return sent
    finally:
        os.close(fd)


def wait(check: Callable[[], bool], what: str) -> None:
    end = time.monotonic() + DEADLINE_S
    while not check():
        if time.monotonic() > end:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.002)


def event_t(timeline: Timeline, kind: type[Event], pid: int) -> float:
    found = timeline.wait_for(
        lambda e: isinstance(e, kind) and getattr(e, "pid", None) == pid, DEADLINE_S
    )
    if found is None:
        raise RuntimeError(f"no {kind.__name__} for {pid}")
    return found.t


def make_trackers(cgroup: TrialCgroup | None, events: bool) -> list[Tracked]:
    wanted: list[tuple[str, TrialCgroup | None, bool]] = []
    if events:
        wanted.append(("events", cgroup, True))
    if cgroup is not None:
        wanted.append(("scan+cg", cgroup, False))
    wanted.append(("scan", None, False))
    return [Tracked(name, group, on) for name, group, on in wanted]


def cpu_window(trackers: list[Tracked], window: float) -> dict[str, float]:
    time.sleep(HOT_FOR_S + 0.5)  # start-up heat has passed: all idle
    before = {t.name: t.ask("cpu") for t in trackers}
    seen = trackers[0].ask("events")
    t0 = time.monotonic()
    time.sleep(window)
    elapsed = time.monotonic() - t0
    out = {t.name: (t.ask("cpu") - before[t.name]) / elapsed * 100 for t in trackers}
    if seen is not None:
        out["machine events/s"] = (trackers[0].ask("events") - seen) / elapsed
    return out


def latencies(tree: Tree, samples: int, idle_samples: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    spawned: list[int] = []
    for mode, count in (("idle", idle_samples), ("hot", samples)):
        for _ in range(count):
            if mode == "idle":
                time.sleep(HOT_FOR_S + random.uniform(0.3, 0.8))
            else:
                time.sleep(random.uniform(0.01, 0.06))
            pid, forked = tree.spawn()
            spawned.append(pid)
            for each in tree.trackers:
                out.setdefault(f"spawn {mode}: {each.name}", []).append(
                    each.ask("start", pid) - forked
                )
    for pid in spawned:
        sent = kill(pid)
        for each in tree.trackers:
            out.setdefault(f"exit: {each.name}", []).append(each.ask("exit", pid) - sent)
        time.sleep(random.uniform(0.01, 0.06))
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def ms(value: float) -> str:
    return f"{value * 1000:7.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000", help="idle tracked processes per run")
    parser.add_argument("--window", type=float, default=6.0, help="idle CPU window, seconds")
    parser.add_argument("--samples", type=int, default=100, help="hot spawns per size")
    parser.add_argument("--idle-samples", type=int, default=8, help="idle spawns per size")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # a pidfd per process per tracker
    become_subreaper()
    scope: RunScope | None = None
    cgroup: TrialCgroup | None = None
    trackers: list[Tracked] = []
    clock: ForkClock | None = None
    try:
        try:
            scope = RunScope(host.containment({}), host.process_events({}))
            cgroup = scope.trial("bench", 1)
        except HostError as exc:
            print(f"no cgroup: {exc}")
        events = host.process_events({})
        if events.source is not host.EventSource.NETLINK:
            print(f"no kernel events: {events.detail}")
        netlink = events.source is host.EventSource.NETLINK
        trackers = make_trackers(cgroup, netlink)
        clock = ForkClock() if netlink else None
        names = [t.name for t in trackers]
        print(f"trackers side by side: {', '.join(names)}; {os.cpu_count()} cores")
        since = "the kernel's fork timestamp" if clock else "just before the fork call"
        print(f"spawn seen: from {since}")
        for n in (int(s) for s in args.sizes.split(",")):
            tree = Tree(n, trackers, cgroup, clock)
            try:
                cpu = cpu_window(trackers, args.window)
                lat = latencies(tree, args.samples, args.idle_samples)
            finally:
                tree.close()
            print(f"\n{n} idle processes")
            rate = cpu.pop("machine events/s", None)
            line = "   ".join(f"{name} {cpu[name]:6.3f} %" for name in names)
            extra = f"   (machine-wide process events read: {rate:.0f}/s)" if rate else ""
            print(f"  idle CPU, % of one core:  {line}{extra}")
            print(f"  {'':<22}" + "".join(f"{name:>22}" for name in names))
            for what in ("spawn hot", "spawn idle", "exit"):
                cells = []
                for name in names:
                    values = lat.get(f"{what}: {name}", [])
                    cells.append(
                        f"{ms(pct(values, 0.5))} /{ms(pct(values, 0.99))}" if values else "-"
                    )
                count = len(lat.get(f"{what}: {names[0]}", []))
                print(f"  {what + f' (n={count})':<22}" + "".join(f"{c:>22}" for c in cells))
            print("  (latencies: p50 / p99 in ms)")
    finally:
        for each in trackers:
            each.close()
        if clock is not None:
            clock.close()
        if cgroup is not None:
            cgroup.kill_all()
            cgroup.remove()
        if scope is not None:
            scope.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

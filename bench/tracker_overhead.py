"""Benchmark: the process tracker's idle CPU and detection latency, fixed 5 ms vs adaptive.

Run: ``.venv/bin/python bench/tracker_overhead.py [--window 6] [--samples 12]``

Two trackers run side by side in this one process, on the same process trees at the same
moment: (a) ``fixed``, always scanning every 5 ms (``idle_scan_interval=0.005``) and
(b) ``adaptive``, the default (5 ms while hot, 25 ms when idle). Measured:
1. tracker-thread CPU (``tracker.cpu_time()``) over ``--window`` idle seconds with 10 and
   with 50 idle tracked processes (``sleep`` children of one root);
2. spawn detection: the root forks a child, which reports ``time.monotonic()`` right after
   the fork; latency = ``ProcessStart.t`` minus that instant. "hot": the spawn follows the
   previous one by 10-60 ms; "idle": it follows ``hot_for`` + 0.3-0.8 s of quiet;
3. exit detection: SIGKILL through the adaptive tracker's pidfd -> ``ProcessExit.t``.
Medians, p95 and ratios (adaptive / fixed) are printed.
"""

from __future__ import annotations

import argparse
import random
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.observe.events import Event, ProcessExit, ProcessStart  # noqa: E402
from harness.observe.timeline import Timeline  # noqa: E402
from harness.system.process import TrackedProcess  # noqa: E402
from harness.system.tracker import ProcessTracker, RoleMatcher  # noqa: E402

# The tracked root: N idle children, then one more child per line read on stdin. Each
# new child writes its pid and the monotonic instant right after fork, then execs sleep.
ROOT = r"""
import os, signal, sys, time
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
for _ in range(int(sys.argv[1])):
    if os.fork() == 0:
        os.execv("/bin/sleep", ["sleep", "3600"])
print("ready", flush=True)
for _ in sys.stdin:
    if os.fork() == 0:
        os.write(1, f"{os.getpid()} {time.monotonic():.9f}\n".encode())
        os.execv("/bin/sleep", ["sleep", "3600"])
"""
HOT_FOR_S = 2.0
DEADLINE_S = 10.0


class Tree:
    """One root with ``n`` idle children, tracked by every given tracker."""

    def __init__(self, n: int, trackers: dict[str, tuple[ProcessTracker, Timeline]]) -> None:
        self.trackers = trackers
        self.proc = subprocess.Popen(
            [sys.executable, "-c", ROOT, str(n)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert self.proc.stdout is not None
        assert self.proc.stdin is not None
        assert self.proc.stdout.readline() == b"ready\n"
        for tracker, _ in trackers.values():
            tracker.add_root(self.proc.pid, 0)
        for name, (tracker, _) in trackers.items():
            wait(lambda t=tracker: len(t.processes()) >= n + 1, f"{name}: {n} children")

    def spawn(self) -> tuple[int, float]:
        """Ask the root for one more child: (pid, monotonic instant right after fork)."""
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(b"x\n")
        self.proc.stdin.flush()
        pid, t = self.proc.stdout.readline().split()
        return int(pid), float(t)

    def close(self) -> None:
        """SIGKILL the children through a tracker's pidfds, then the root."""
        tracker, _ = next(iter(self.trackers.values()))
        for proc in tracker.processes():
            if not proc.root:
                tracker.signal(proc, signal.SIGKILL)
        for name, (each, _) in self.trackers.items():
            wait(lambda t=each: len(t.processes()) <= 1, f"{name}: children gone")
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.close()
        self.proc.wait(DEADLINE_S)
        self.proc.stdout.close()
        for name, (each, _) in self.trackers.items():
            wait(lambda t=each: not t.processes(), f"{name}: root gone")


def wait(check: object, what: str) -> None:
    assert callable(check)
    end = time.monotonic() + DEADLINE_S
    while not check():
        if time.monotonic() > end:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.002)


def event_t(timeline: Timeline, kind: type[Event], pid: int) -> float:
    found = timeline.wait_for(lambda e: isinstance(e, kind) and e.pid == pid, DEADLINE_S)
    if found is None:
        raise RuntimeError(f"no {kind.__name__} for {pid}")
    return found.t


def make_trackers() -> dict[str, tuple[ProcessTracker, Timeline]]:
    roles = [RoleMatcher("root", root=True), RoleMatcher("child")]
    out = {}
    for name, idle in (("fixed", 0.005), ("adaptive", None)):
        timeline = Timeline()
        options = {} if idle is None else {"idle_scan_interval": idle}
        tracker = ProcessTracker(timeline, roles, hot_for=HOT_FOR_S, **options)
        tracker.start()
        out[name] = (tracker, timeline)
    return out


def cpu_window(trackers: dict[str, tuple[ProcessTracker, Timeline]], window: float) -> dict:
    time.sleep(HOT_FOR_S + 0.5)  # start-up heat has passed: both idle
    before = {n: t.cpu_time() for n, (t, _) in trackers.items()}
    t0 = time.monotonic()
    time.sleep(window)
    elapsed = time.monotonic() - t0
    return {n: (t.cpu_time() - before[n]) / elapsed * 100 for n, (t, _) in trackers.items()}


def latencies(tree: Tree, samples: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    spawned: list[int] = []
    for mode in ("idle", "hot"):
        for _ in range(samples):
            if mode == "idle":
                time.sleep(HOT_FOR_S + random.uniform(0.3, 0.8))
            else:
                time.sleep(random.uniform(0.01, 0.06))
            pid, forked = tree.spawn()
            spawned.append(pid)
            for name, (_, timeline) in tree.trackers.items():
                latency = event_t(timeline, ProcessStart, pid) - timeline.at(forked)
                out.setdefault(f"spawn {mode}: {name}", []).append(latency)
    adaptive, timeline = tree.trackers["adaptive"]
    for pid in spawned:
        proc = adaptive.get(pid)
        assert isinstance(proc, TrackedProcess)
        sent = timeline.now()
        adaptive.signal(proc, signal.SIGKILL)
        for name, (_, each) in tree.trackers.items():
            out.setdefault(f"exit: {name}", []).append(event_t(each, ProcessExit, pid) - sent)
        time.sleep(random.uniform(0.01, 0.06))
    return out


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=6.0, help="idle CPU window, seconds")
    parser.add_argument("--samples", type=int, default=12, help="spawns per mode")
    parser.add_argument("--sizes", default="10,50", help="idle tracked processes per run")
    args = parser.parse_args()
    trackers = make_trackers()
    try:
        print(f"idle tracker-thread CPU over {args.window:.0f} s (% of one core)")
        for n in (int(s) for s in args.sizes.split(",")):
            tree = Tree(n, trackers)
            try:
                cpu = cpu_window(trackers, args.window)
                lat = latencies(tree, args.samples) if n == 50 else {}
            finally:
                tree.close()
            ratio = cpu["adaptive"] / cpu["fixed"] if cpu["fixed"] else float("nan")
            print(
                f"  {n:>3} idle processes: fixed 5 ms {cpu['fixed']:6.3f} %   "
                f"adaptive {cpu['adaptive']:6.3f} %   ratio {ratio:4.2f}x"
            )
            for name, values in lat.items():
                print(
                    f"    {name:<22} median {statistics.median(values) * 1000:7.2f} ms   "
                    f"p95 {p95(values) * 1000:7.2f} ms   n={len(values)}"
                )
    finally:
        for tracker, _ in trackers.values():
            tracker.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

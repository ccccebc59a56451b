"""Benchmark: idle CPU of the testbed supervisor and its children, split by who spends it.

Run: ``.venv/bin/python bench/testbed_idle.py [--fleet 50] [--window 10] [-- EXTRA ARGS]``

Starts ``python -m harness.testbed --modules FLEET --workers 0`` (canary on, default
heartbeat and vars intervals unless EXTRA ARGS say otherwise), waits until it is ready and
``--settle`` seconds more, then sums the CPU time of every thread of the supervisor and of
each child over ``--window`` seconds. Thread times come from ``/proc/PID/task/TID/schedstat``
(nanoseconds; psutil's ``cpu_times`` are in 10 ms ticks, too coarse for 51 processes).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]


def cpu_ns(pid: int) -> int:
    """CPU time of every live thread of ``pid`` (0 if gone)."""
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


def measure(fleet: int, window: float, settle: float, extra: list[str]) -> tuple[float, float]:
    """(% of one core for the supervisor, for all its children) over ``window`` seconds."""
    with tempfile.TemporaryDirectory(prefix="chaos-bench-") as tmp:
        cmd = [sys.executable, "-m", "harness.testbed", "--port", "0", "--data-dir",
               str(Path(tmp) / "data"), "--modules", str(fleet), "--workers", "0",
               *extra]  # fmt: skip
        with (Path(tmp) / "supervisor.log").open("wb") as log:
            proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=log)
        try:
            assert proc.stdout is not None
            ready = proc.stdout.readline().decode()
            assert ready.startswith("listening on"), ready
            time.sleep(settle)  # start-up is over before the window opens (pacing, not a wait)
            kids = [c.pid for c in psutil.Process(proc.pid).children()]
            assert len(kids) == fleet + 1, f"expected {fleet} modules + backend, got {len(kids)}"
            sup0, kids0 = cpu_ns(proc.pid), sum(cpu_ns(k) for k in kids)
            t0 = time.monotonic()
            time.sleep(window)
            sup1, kids1 = cpu_ns(proc.pid), sum(cpu_ns(k) for k in kids)
            elapsed = time.monotonic() - t0
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
            if proc.stdout is not None:
                proc.stdout.close()
    scale = 100.0 / (elapsed * 1e9)
    return (sup1 - sup0) * scale, (kids1 - kids0) * scale


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fleet", type=int, default=50)
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument("--settle", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("extra", nargs="*", help="more supervisor arguments (after --)")
    args = parser.parse_args()
    print(f"idle CPU, supervisor + {args.fleet} modules + backend, {args.window:.0f} s windows")
    for _ in range(args.repeat):
        sup, kids = measure(args.fleet, args.window, args.settle, args.extra)
        print(
            f"  supervisor {sup:6.3f} %   children {kids:6.3f} %   "
            f"total {sup + kids:6.3f} % of one core"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

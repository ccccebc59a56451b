"""Benchmark: the testbed's recovery after SIGKILL, beside the floor (a bare Popen).

Run: ``.venv/bin/python bench/testbed_recovery.py [--kills 25] [--fleet 50]``

Measured in one run, on this machine:
1. one child SIGKILLed (a module, then the backend), >= 20 times each:
   kill -> replacement running (Popen returned: the new process exists, exec done) and
   kill -> registered/healthy (module: register handshake answered; backend: port bound);
   the floor: a bare ``Popen`` of the same child, with the same handshake, measured to the
   same two points.
2. ``--fleet`` modules SIGKILLed at once -> all registered again, beside a bare Popen of as
   many children at once to registered.
3. idle CPU of the supervisor and its children with ``--fleet`` modules.
4. orphans left 2 s after the supervisor itself is SIGKILLed.
Timestamps come from the supervisor's own log (``time.monotonic``, the same clock here).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.testbed.channel import Channel  # noqa: E402
from harness.testbed.children import child_env, command  # noqa: E402

LINE = re.compile(
    r"(spawned (?P<s>\S+) pid (?P<sp>\d+)|(?P<r>\S+) pid (?P<rp>\d+) ready) \(t=(?P<t>[\d.]+)\)"
)


class Supervisor:
    """A testbed supervisor whose stderr log is parsed for spawn/ready times."""

    def __init__(self, folder: Path, *args: str) -> None:
        self.log_path = folder / "supervisor.log"
        self.log = self.log_path.open("wb")
        cmd = [sys.executable, "-m", "harness.testbed", "--port", "0", "--data-dir",
               str(folder / "data"), "--max-restarts", "100000", *args]  # fmt: skip
        self.proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=self.log)
        assert self.proc.stdout is not None
        ready = self.proc.stdout.readline().decode()
        assert ready.startswith("listening on"), ready
        self.offset = 0
        self.spawned: dict[int, float] = {}  # pid -> t
        self.ready: dict[int, float] = {}

    def poll_log(self) -> None:
        data = self.log_path.read_bytes()
        text, self.offset = data[self.offset :].decode(errors="replace"), len(data)
        for m in LINE.finditer(text):
            if m["s"]:
                self.spawned[int(m["sp"])] = float(m["t"])
            else:
                self.ready[int(m["rp"])] = float(m["t"])

    def children(self, module: str) -> dict[int, str]:
        out = {}
        for child in psutil.Process(self.proc.pid).children():
            try:
                argv = child.cmdline()
            except psutil.Error:
                continue
            if f"harness.testbed.{module}" in argv:
                out[child.pid] = argv[argv.index("--name") + 1]
        return out

    def wait_new(self, count: int, old: set[int], deadline_s: float = 30.0) -> list[int]:
        """Wait until ``count`` new pids are both spawned and ready; return them."""
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            self.poll_log()
            fresh = [p for p in self.ready if p not in old and p in self.spawned]
            if len(fresh) >= count:
                return fresh
            time.sleep(0.005)
        raise RuntimeError(f"no recovery within {deadline_s}s; see {self.log_path}")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        self.log.close()


def floor(module: str, count: int) -> tuple[list[float], float]:
    """Bare Popen of ``count`` children at once: per-child running times, all-registered."""
    env = child_env(orphans=False)
    start = time.monotonic()
    procs, chans, running = [], [], []
    for i in range(count):
        parent, child = socket.socketpair()
        fd = child.fileno()
        args = command(module, fd, ["--name", f"m{i}", "--instance", "floor"])
        procs.append(subprocess.Popen(args, pass_fds=(fd,), env=env, cwd=REPO))
        running.append(time.monotonic() - start)
        child.close()
        chans.append(Channel(parent))
    for chan in chans:  # the same handshake the supervisor does
        while True:
            msgs = chan.recv(10.0)
            assert msgs, "floor child did not report"
            if any(m.get("t") in ("register", "ready") for m in msgs):
                if module == "module":
                    chan.send({"t": "registered"})
                break
    done = time.monotonic() - start
    for proc in procs:
        proc.kill()
        proc.wait()
    for chan in chans:
        chan.close()
    return running, done


def kill_series(sup: Supervisor, module: str, kills: int) -> tuple[list[float], list[float]]:
    to_running, to_ready = [], []
    for _ in range(kills):
        sup.poll_log()
        pid = next(iter(sup.children(module)))
        old = set(sup.ready) | {pid}
        t_kill = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        (new,) = sup.wait_new(1, old)
        to_running.append(sup.spawned[new] - t_kill)
        to_ready.append(sup.ready[new] - t_kill)
        time.sleep(0.05)  # let the machine settle between kills (bench pacing, not a wait)
    return to_running, to_ready


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def row(name: str, values: list[float], base: list[float] | None = None) -> str:
    med = statistics.median(values) * 1000
    text = f"  {name:<44} median {med:8.1f} ms   p95 {p95(values) * 1000:8.1f} ms"
    if base:
        text += f"   ratio {statistics.median(values) / statistics.median(base):5.2f}x"
    return text


def single(folder: Path, module: str, kills: int) -> None:
    sup = Supervisor(folder, "--modules", "1", "--workers", "0", "--canary-ms", "0")
    try:
        running, ready = kill_series(sup, module, kills)
    finally:
        sup.stop()
    base_run, base_ready = [], []
    for _ in range(kills):
        r, d = floor(module, 1)
        base_run.append(r[0])
        base_ready.append(d)
    label = "registered" if module == "module" else "healthy"
    print(f"{module}: {kills} SIGKILLs")
    print(row("floor: bare Popen -> running", base_run))
    print(row("testbed: kill -> replacement running", running, base_run))
    print(row(f"floor: bare Popen -> {label}", base_ready))
    print(row(f"testbed: kill -> {label}", ready, base_ready))


def fleet(folder: Path, count: int, rounds: int) -> None:
    sup = Supervisor(folder, "--modules", str(count), "--workers", "0")
    try:
        times = []
        for _ in range(rounds):
            pids = list(sup.children("module"))
            sup.poll_log()
            old = set(sup.ready) | set(pids)
            t_kill = time.monotonic()
            for pid in pids:
                os.kill(pid, signal.SIGKILL)
            fresh = sup.wait_new(count, old)
            times.append(max(sup.ready[p] for p in fresh) - t_kill)
            time.sleep(0.5)
        # idle CPU: supervisor + children over a quiet window
        procs = [psutil.Process(sup.proc.pid), *psutil.Process(sup.proc.pid).children()]
        cpu0 = sum(sum(p.cpu_times()[:2]) for p in procs)
        t0 = time.monotonic()
        time.sleep(10.0)
        cpu1 = sum(sum(p.cpu_times()[:2]) for p in procs)
        idle = (cpu1 - cpu0) / (time.monotonic() - t0) * 100
        sup_proc = psutil.Process(sup.proc.pid)
        children = [p.pid for p in sup_proc.children()]
        sup.proc.send_signal(signal.SIGKILL)
        sup.proc.wait()
        end = time.monotonic() + 2.0
        while time.monotonic() < end and any(psutil.pid_exists(p) for p in children):
            time.sleep(0.01)
        orphans = [p for p in children if psutil.pid_exists(p)]
        for pid in orphans:
            os.kill(pid, signal.SIGKILL)
    finally:
        if sup.proc.poll() is None:
            sup.stop()
        else:
            assert sup.proc.stdout is not None
            sup.proc.stdout.close()
            sup.log.close()
    base = [floor("module", count)[1] for _ in range(rounds)]
    print(f"fleet: {count} modules SIGKILLed at once, {rounds} rounds")
    print(row(f"floor: bare Popen x{count} -> all registered", base))
    print(row(f"testbed: kill x{count} -> all registered", times, base))
    print(f"  idle CPU, supervisor + {count} children (canary on): {idle:.2f} % of one core")
    print(f"  orphans 2 s after SIGKILL of the supervisor: {len(orphans)} of {len(children)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=25)
    parser.add_argument("--fleet", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="chaos-bench-") as tmp:
        root = Path(tmp)
        for i, module in enumerate(("module", "backend")):
            (root / str(i)).mkdir()
            single(root / str(i), module, args.kills)
        (root / "fleet").mkdir()
        fleet(root / "fleet", args.fleet, args.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""A tiny supervisor: starts worker.py, restarts it when it dies, stops it on SIGTERM.

Not the testbed: a purpose-written system under test, so the e2e tests prove the harness
works on any managed-process program. ``--restart-delay`` is the restart bug (a slow
restart), ``--no-restart`` the worse one; ``--pids FILE`` is passed on to the worker.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from pathlib import Path

WORKER = str(Path(__file__).with_name("worker.py"))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--restart-delay", type=float, default=0.0)
    parser.add_argument("--no-restart", action="store_true")
    parser.add_argument("--pids", type=Path, default=None)
    args = parser.parse_args()
    stopping = False

    def spawn() -> subprocess.Popen[bytes]:
        extra = ["--pids", str(args.pids)] if args.pids is not None else []
        return subprocess.Popen([sys.executable, WORKER, "--port", str(args.port), *extra])

    print("supervisor starting its worker", flush=True)
    child = spawn()

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        child.terminate()

    signal.signal(signal.SIGTERM, stop)
    while True:
        code = child.wait()
        if stopping:
            return 0
        print(f"worker {child.pid} exited with {code}", flush=True)
        if args.no_restart:
            print("not restarting the worker", flush=True)
            signal.pause()
            continue
        time.sleep(args.restart_delay)  # the system's own behaviour, not a test's wait
        child = spawn()
        print(f"restarted worker {child.pid}", flush=True)


if __name__ == "__main__":
    sys.exit(main())

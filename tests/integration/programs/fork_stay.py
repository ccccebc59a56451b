"""Forks a child that keeps the parent's image (a pre-fork worker, idle in a wait); with
``--exec-after S`` the child execs the worker after S seconds (a helper, misnamed early)."""

import os
import pathlib
import signal
import sys
import time

WORKER = str(pathlib.Path(__file__).with_name("worker.py"))
exec_after = (
    float(sys.argv[sys.argv.index("--exec-after") + 1]) if "--exec-after" in sys.argv else None
)
pid = os.fork()
if pid == 0:
    if exec_after is not None:
        time.sleep(exec_after)
        os.execv(sys.executable, [sys.executable, WORKER])
    while True:
        signal.pause()
signal.signal(signal.SIGTERM, lambda *_: (os.kill(pid, signal.SIGTERM), sys.exit(0)))
print(f"forked {pid}", flush=True)
os.waitpid(pid, 0)

"""Forks, and the child takes a moment before it execs the worker (a pre-exec set-up)."""

import os
import pathlib
import signal
import sys
import time

WORKER = str(pathlib.Path(__file__).with_name("worker.py"))
pid = os.fork()
if pid == 0:
    time.sleep(0.02)  # the system's own pre-exec work, shorter than the tracker's exec wait
    os.execv(sys.executable, [sys.executable, WORKER])
signal.signal(signal.SIGTERM, lambda *_: (os.kill(pid, signal.SIGTERM), sys.exit(0)))
print(f"forked {pid}", flush=True)
os.waitpid(pid, 0)

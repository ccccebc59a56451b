"""A supervisor that restarts its worker 0.3 s after it dies; SIGTERM stops both."""

import pathlib
import signal
import subprocess
import sys
import time

WORKER = str(pathlib.Path(__file__).with_name("worker.py"))
stopping = False
child = subprocess.Popen([sys.executable, WORKER])


def stop(*_: object) -> None:
    global stopping
    stopping = True
    child.terminate()


signal.signal(signal.SIGTERM, stop)
print(f"worker {child.pid}", flush=True)
while True:
    child.wait()
    if stopping:
        sys.exit(0)
    time.sleep(0.3)  # the slow part of the restart
    child = subprocess.Popen([sys.executable, WORKER])
    print(f"restarted worker {child.pid}", flush=True)

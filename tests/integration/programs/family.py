"""A parent of N workers (``family.py N``).

SIGUSR1: exit 5 at once, leaving the workers behind (they are re-parented).
SIGUSR2: start one more worker. SIGTERM: stop the workers, wait for them, exit 0.
"""

import os
import pathlib
import signal
import subprocess
import sys

WORKER = str(pathlib.Path(__file__).with_name("worker.py"))
children = [subprocess.Popen([sys.executable, WORKER]) for _ in range(int(sys.argv[1]))]


def stop(*_: object) -> None:
    for child in children:
        child.terminate()
    for child in children:
        child.wait()
    sys.exit(0)


signal.signal(signal.SIGUSR1, lambda *_: os._exit(5))
signal.signal(
    signal.SIGUSR2, lambda *_: children.append(subprocess.Popen([sys.executable, WORKER]))
)
signal.signal(signal.SIGTERM, stop)
print("family ready " + " ".join(str(c.pid) for c in children), flush=True)
while True:
    signal.pause()

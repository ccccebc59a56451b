"""Leaks a child that survives it: on SIGTERM it exits at once, its child keeps running.

The child ignores SIGTERM and says ``survivor ready PID`` once it does.
"""

import os
import signal
import subprocess
import sys

SURVIVOR = (
    "import os, signal\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print(f'survivor ready {os.getpid()}', flush=True)\n"
    "while True:\n"
    "    signal.pause()\n"
)
child = subprocess.Popen([sys.executable, "-c", SURVIVOR])
signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
print(f"leaky ready {child.pid}", flush=True)
while True:
    signal.pause()

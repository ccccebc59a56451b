"""A child that idles until told: SIGUSR1 exits with code 7, SIGTERM exits with code 0.

It says ``worker ready PID`` once its handlers are installed (signals before that would
kill it with the default action).
"""

import os
import signal
import sys

signal.signal(signal.SIGUSR1, lambda *_: sys.exit(7))
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
# One write(2) per line: siblings share the pipe, and print() may split text and newline.
os.write(1, f"worker ready {os.getpid()}\n".encode())
while True:
    signal.pause()

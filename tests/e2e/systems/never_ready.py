"""A system that starts, explains itself, and never becomes ready (its output is the clue)."""

from __future__ import annotations

import signal
import sys

print("booting the e2e never-ready system", flush=True)
print("config: waiting for a database that will never answer", flush=True)
sys.stderr.write("warning: database connection refused, retrying forever\n")
sys.stderr.flush()
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
while True:
    signal.pause()

"""Ignores SIGTERM (a hung shutdown): only SIGKILL ends it."""

import signal

signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("stubborn ready", flush=True)
while True:
    signal.pause()

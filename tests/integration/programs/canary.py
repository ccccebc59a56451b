"""A process outside any system: reports every signal it receives on stdout, and idles."""

import contextlib
import signal
import sys


def report(signum: int, _frame: object) -> None:
    print(f"signal {signum}", flush=True)


for sig in signal.valid_signals():
    if sig not in (signal.SIGKILL, signal.SIGSTOP):
        with contextlib.suppress(OSError, ValueError):
            signal.signal(sig, report)
print("canary ready", flush=True)
while True:
    signal.pause()
    sys.stdout.flush()

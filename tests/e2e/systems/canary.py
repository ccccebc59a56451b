"""A bystander started by a test, outside any system: records every signal it gets.

Usage: canary.py FILE. Writes ``ready PID`` first, then one ``signal N`` line per signal
received (SIGKILL and SIGSTOP cannot be caught: the test checks that it is alive and not
stopped instead).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from pathlib import Path

record = Path(sys.argv[1])


def note(signum: int, _frame: object) -> None:
    with record.open("a", encoding="utf-8") as handle:
        handle.write(f"signal {signum}\n")


for sig in signal.valid_signals():
    if sig not in (signal.SIGKILL, signal.SIGSTOP):
        with contextlib.suppress(OSError, ValueError):
            signal.signal(sig, note)
with record.open("a", encoding="utf-8") as handle:
    handle.write(f"ready {os.getpid()}\n")
while True:
    signal.pause()

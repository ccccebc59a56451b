"""A system that floods its stdout (MiB of lines, or one line with no newline), then serves.

``flood.py MIB lines|line``: writes MIB mebibytes, then a line only a pattern of the
scenario looks for, then how long the writing took (on stderr), and waits for SIGTERM. A
harness that does not keep draining its pipes keeps it blocked in ``write``.
"""

from __future__ import annotations

import signal
import sys
import time

mib, shape = int(sys.argv[1]), sys.argv[2]
out = sys.stdout.buffer
started = time.monotonic()
if shape == "lines":
    block = (b"x" * 99 + b"\n") * 10486  # 1 MiB of 100-byte lines
    for _ in range(mib):
        out.write(block)
else:
    block = b"y" * (1 << 20)
    for _ in range(mib):
        out.write(block)
    out.write(b"\n")
out.write(b"the late marker, after the flood\n")
out.flush()
sys.stderr.write(f"flooded {mib} MiB in {time.monotonic() - started:.2f}s\n")
sys.stderr.flush()
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
while True:
    signal.pause()

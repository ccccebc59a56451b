"""A child for the resource-fault tests: one command a line on stdin, one answer on stdout.

``grow N``: allocate N MiB and write every page (so it is really charged), answer
``grew N``; ``fork``: try ``os.fork`` (the child exits at once), answer ``forked`` or the
errno name (``EAGAIN`` under a pids limit); ``spin S``: burn CPU for S seconds of wall
time, answer ``spun``.
"""

from __future__ import annotations

import errno
import os
import sys
import time

held: list[bytes] = []


def main() -> int:
    for line in sys.stdin:
        word, _, arg = line.strip().partition(" ")
        if word == "grow":
            held.append(b"\x01" * (int(arg) << 20))
            answer = f"grew {arg}"
        elif word == "fork":
            try:
                pid = os.fork()
            except OSError as exc:
                answer = errno.errorcode.get(exc.errno or 0, str(exc))
            else:
                if pid == 0:
                    os._exit(0)
                os.waitpid(pid, 0)
                answer = "forked"
        elif word == "spin":
            end = time.monotonic() + float(arg)
            while time.monotonic() < end:
                pass
            answer = "spun"
        else:
            answer = f"unknown {word}"
        sys.stdout.write(answer + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

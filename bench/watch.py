"""The bench's own clock: when a worker's port is answered by a new process.

The harness times a recovery from its own records (the fault action, the replacement's
ready line as its log reader saw it). This process checks those figures from outside, with
nothing of the harness: it asks ``GET /health`` on each worker's port (the backend answers
with its pid) in a tight loop and notes, on ``time.monotonic`` (CLOCK_MONOTONIC, the same
clock in every process of the machine), when the answer first comes from a pid other than
the one that answered before the kill.

It is a separate process so that its polling never competes with the harness's threads for
the GIL. One JSON line in per measurement, two out, on stdin/stdout:

    in:  {"ports": [8001, 8002], "interval": 0.001, "timeout": 60}
    out: {"armed": {"8001": 1234, ...}}         the pids answering now; then the bench kills
    out: {"answered": {"8001": [5678, T], ...}} per port, the new pid and when (monotonic)
"""

from __future__ import annotations

import json
import socket
import sys
import time

REQUEST = b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"


def health_pid(port: int, timeout: float = 1.0) -> int | None:
    """The pid in the answer to ``GET /health`` on ``port``; None if nothing answers."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
            conn.sendall(REQUEST)
            data = b""
            while chunk := conn.recv(65536):
                data += chunk
    except OSError:
        return None
    _, _, body = data.partition(b"\r\n\r\n")
    try:
        pid = json.loads(body).get("pid")
    except (ValueError, AttributeError):
        return None
    return pid if isinstance(pid, int) else None


def measure(ports: list[int], interval: float, timeout: float) -> None:
    before = {port: health_pid(port) for port in ports}
    out({"armed": {str(port): pid for port, pid in before.items()}})
    pending = dict(before)
    answered: dict[str, list[float]] = {}
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for port, old in list(pending.items()):
            pid = health_pid(port)
            if pid is not None and pid != old:
                answered[str(port)] = [pid, time.monotonic()]
                del pending[port]
        time.sleep(interval)
    out({"answered": answered})


def out(value: object) -> None:
    sys.stdout.write(json.dumps(value) + "\n")
    sys.stdout.flush()


def main() -> int:
    for line in sys.stdin:
        request = json.loads(line)
        measure([int(p) for p in request["ports"]], request["interval"], request["timeout"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

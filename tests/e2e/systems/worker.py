"""The supervised worker: listens on a TCP port (a real resource to leak) and idles.

``--pids FILE``: once listening and done printing, write the supervisor's pid and its own
(atomically). A test that kills the harness waits for it: from then on the system is
silent, so a closed output pipe cannot end it.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pids", type=Path, default=None)
    args = parser.parse_args()
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", args.port))
    server.listen()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"worker listening on {args.port}", flush=True)
    if args.pids is not None:
        tmp = args.pids.with_suffix(".tmp")
        tmp.write_text(f"{os.getppid()}\n{os.getpid()}\n", encoding="utf-8")
        tmp.replace(args.pids)
    while True:
        signal.pause()


if __name__ == "__main__":
    sys.exit(main())

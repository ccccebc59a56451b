"""A pre-fork HTTP/1.1 keep-alive server: a master and N workers sharing one listening socket.

Like nginx: the master binds the port, then starts its workers (exec'd, ``--worker FD``,
so each has a command line of its own); each worker accepts connections from the shared
socket and keeps them alive, a thread per connection. A frozen worker stalls every
connection it accepted, while new connections go to the workers still running. Each
answer is ``{"pid": WORKER_PID, "n": REQUESTS_ON_THIS_CONNECTION}``.

Usage: ``keepalive_server.py PORT [--workers 2]``. SIGTERM stops the master and its workers.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    served = 0

    def do_GET(self) -> None:
        self.served += 1
        body = json.dumps({"pid": os.getpid(), "n": self.served}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _worker(fd: int) -> None:
    listener = socket.socket(fileno=fd)
    server = ThreadingHTTPServer(listener.getsockname(), _Handler, bind_and_activate=False)
    server.socket.close()
    server.socket = listener
    server.daemon_threads = True
    print(f"worker {os.getpid()} serving", flush=True)
    server.serve_forever(poll_interval=0.05)


def _master(port: int, workers: int) -> None:
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(128)
    fd = listener.fileno()
    children = [
        subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--worker", str(fd)], pass_fds=[fd]
        )
        for _ in range(workers)
    ]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"master {os.getpid()} listening on {port}", flush=True)
    stop.wait()
    for child in children:
        child.terminate()
    for child in children:
        child.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", nargs="?", type=int)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker", type=int, help="(internal) serve the inherited socket FD")
    args = parser.parse_args()
    if args.worker is not None:
        _worker(args.worker)
    else:
        _master(args.port, args.workers)


if __name__ == "__main__":
    main()

"""A pre-fork server, as gunicorn's sync workers: fork without exec, the workers accept.

The master binds and listens, then forks ``--workers`` children that never exec (they keep
the master's command line for good) and serve ``GET /`` on the shared socket with
``ok <pid>``. A worker that dies is forked again at once (``--no-respawn``: not). SIGTERM
to the master stops the workers, then the master exits 0. A port already taken is an
error: the master says so on stderr and exits 1 (``--keep-running-on-bind-error`` stays
up instead, the bug a "must refuse to start" scenario is there to catch).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import time

_WAITED = {signal.SIGCHLD, signal.SIGTERM}
_REPLY = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"


def serve(listener: socket.socket) -> None:
    """A worker's life: answer each connection, one at a time, until killed."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _WAITED)
    while True:
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(2.0)
            try:
                conn.recv(65536)
                body = f"ok {os.getpid()}\n".encode()
                conn.sendall(_REPLY + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
            except OSError:
                pass


def fork_worker(listener: socket.socket) -> int:
    pid = os.fork()
    if pid == 0:
        try:
            serve(listener)
        finally:
            os._exit(0)
    print(f"worker {pid} booted", flush=True)
    return pid


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-respawn", action="store_true")
    parser.add_argument("--keep-running-on-bind-error", action="store_true")
    args = parser.parse_args()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn: a squatter
    # still makes bind fail, a connection in TIME_WAIT does not
    try:
        listener.bind(("127.0.0.1", args.port))
    except OSError as exc:
        sys.stderr.write(f"error: cannot listen on 127.0.0.1:{args.port}: {exc.strerror}\n")
        sys.stderr.flush()
        if not args.keep_running_on_bind_error:
            return 1
        while True:  # the bug: up, serving nothing, never saying it failed
            signal.pause()
    listener.listen(64)
    print(f"master {os.getpid()} listening on 127.0.0.1:{args.port}", flush=True)
    signal.pthread_sigmask(signal.SIG_BLOCK, _WAITED)  # taken with sigwaitinfo: none missed
    workers = {fork_worker(listener) for _ in range(args.workers)}
    stopping = False
    while not stopping:
        stopping = signal.sigwaitinfo(_WAITED).si_signo == signal.SIGTERM
        while workers:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            workers.discard(pid)
            print(f"worker {pid} exited", flush=True)
            if not stopping and not args.no_respawn:
                workers.add(fork_worker(listener))
    for pid in workers:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 3.0
    while workers and time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        workers.discard(pid)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: what the harness's TCP proxy adds, beside a direct connection, in one run.

Run: ``.venv/bin/python bench/proxy_overhead.py [--trips 2000] [--mib 64] [--rounds 3]``
(about a minute).

A server process (echo, and a source that streams N MiB) and, in this process, as in a
trial: the client, the harness's proxy (``harness.proxy``, asyncio on one thread, no toxic)
and, for the design choice, a thread-per-connection forwarder (two blocking threads per
connection). Every variant is measured in the same rounds, interleaved, so a busy machine
weighs on all alike:

1. round trip, 64 bytes, one kept-alive connection: p50 / p99;
2. connect + one round trip on a new connection each time (HTTP/1.0 style): p50 / p99;
3. 16 connections at once, each doing round trips: p50 / p99 of all;
4. throughput of one connection streaming ``--mib`` MiB from the server: MiB/s.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.proxy import ProxySet  # noqa: E402

SERVER = r"""
import socket, sys, threading
def echo(conn):
    with conn:
        while data := conn.recv(65536):
            conn.sendall(data)
def source(conn):
    with conn:
        size = int(conn.recv(64).decode())
        block = b"s" * 65536
        while size > 0:
            conn.sendall(block[: min(size, len(block))])
            size -= len(block)
def serve(listener, handler):
    while True:
        conn, _ = listener.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=handler, args=(conn,), daemon=True).start()
ports = []
for handler in (echo, source):
    listener = socket.create_server(("127.0.0.1", 0), backlog=256)
    ports.append(listener.getsockname()[1])
    threading.Thread(target=serve, args=(listener, handler), daemon=True).start()
print(*ports, flush=True)
sys.stdin.read()
"""
MESSAGE = b"m" * 64


class ThreadForwarder:
    """The alternative design: a thread per direction per connection, blocking sockets."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=256)
        self.port: int = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target))
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._pipe, args=(client, server), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self) -> None:
        self.listener.close()


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def trip(sock: socket.socket) -> float:
    start = time.perf_counter()
    sock.sendall(MESSAGE)
    got = 0
    while got < len(MESSAGE):
        got += len(sock.recv(65536))
    return time.perf_counter() - start


def kept_alive(port: int, trips: int) -> list[float]:
    with connect(port) as sock:
        trip(sock)
        return [trip(sock) for _ in range(trips)]


def fresh(port: int, trips: int) -> list[float]:
    times = []
    for _ in range(trips):
        start = time.perf_counter()
        with connect(port) as sock:
            trip(sock)
        times.append(time.perf_counter() - start)
    return times


def parallel(port: int, trips: int, width: int = 16) -> list[float]:
    results: list[list[float]] = [[] for _ in range(width)]

    def one(i: int) -> None:
        results[i] = kept_alive(port, trips // width)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(width)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [t for r in results for t in r]


def stream(port: int, mib: int) -> float:
    size = mib << 20
    with connect(port) as sock:
        start = time.perf_counter()
        sock.sendall(str(size).encode().ljust(64))
        got = 0
        while got < size:
            data = sock.recv(1 << 20)
            if not data:
                break
            got += len(data)
        return got / (1 << 20) / (time.perf_counter() - start)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trips", type=int, default=2000)
    parser.add_argument("--mib", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    server = subprocess.Popen(
        [sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert server.stdout is not None
    echo_port, source_port = map(int, server.stdout.readline().split())
    proxies = ProxySet()
    free = [socket.create_server(("127.0.0.1", 0)) for _ in range(2)]
    ports = [s.getsockname()[1] for s in free]
    for s in free:
        s.close()
    echo_proxy = proxies.open("echo", [0], ports[0], lambda: ("127.0.0.1", echo_port), "127.0.0.1")
    source_proxy = proxies.open(
        "source", [0], ports[1], lambda: ("127.0.0.1", source_port), "127.0.0.1"
    )
    echo_threads, source_threads = ThreadForwarder(echo_port), ThreadForwarder(source_port)
    variants = {
        "direct": (echo_port, source_port),
        "asyncio proxy (harness)": (echo_proxy.port, source_proxy.port),
        "thread per connection": (echo_threads.port, source_threads.port),
    }
    measures: dict[str, Callable[[int, int], list[float]]] = {
        "round trip, kept alive": kept_alive,
        "connect + round trip": lambda port, n: fresh(port, n // 4),
        "16 connections at once": parallel,
    }
    latency: dict[tuple[str, str], list[float]] = {}
    speed: dict[str, list[float]] = {name: [] for name in variants}
    try:
        for _ in range(args.rounds):
            for measure, run in measures.items():
                for name, (echo, _) in variants.items():
                    latency.setdefault((measure, name), []).extend(run(echo, args.trips))
            for name, (_, source) in variants.items():
                speed[name].append(stream(source, args.mib))
    finally:
        proxies.close()
        echo_threads.close()
        source_threads.close()
        assert server.stdin is not None
        server.stdin.close()
        server.wait(10)

    print(f"proxy overhead: {args.rounds} rounds, {args.trips} trips each, 64-byte messages")
    print(f"{'measure':26} {'variant':26} {'p50 ms':>8} {'p99 ms':>8} {'vs direct p50':>14}")
    for measure in measures:
        base = statistics.median(latency[(measure, "direct")])
        for name in variants:
            values = latency[(measure, name)]
            p50, p99 = pct(values, 0.5), pct(values, 0.99)
            added = f"+{(p50 - base) * 1000:.3f} ms" if name != "direct" else ""
            print(f"{measure:26} {name:26} {p50 * 1000:8.3f} {p99 * 1000:8.3f} {added:>14}")
    print(f"\nthroughput, one connection streaming {args.mib} MiB (median of {args.rounds}):")
    direct = statistics.median(speed["direct"])
    for name, values in speed.items():
        mid = statistics.median(values)
        print(f"  {name:26} {mid:8.1f} MiB/s  ({mid / direct:.2f}x direct)")


if __name__ == "__main__":
    main()

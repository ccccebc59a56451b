"""Subreaper, leftover reaping and port reservation, on the real host."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

from harness.system.marker import HARNESS_PID_ENV, HARNESS_START_ENV, TRIAL_ENV, marker_env
from harness.system.ports import PortAllocator, free_port, release, reserved
from harness.system.subreaper import become_subreaper, is_subreaper, reap_leftovers

from .rig import PROGRAMS


def _worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, str(PROGRAMS / "worker.py")],
        stdout=subprocess.PIPE,
        env={**os.environ, **env},
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().startswith(b"worker ready")
    return proc


def test_become_subreaper_is_idempotent() -> None:
    assert become_subreaper()
    assert become_subreaper()
    assert is_subreaper()


def test_leftovers_of_a_dead_harness_are_killed_and_nothing_else() -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # its pid now names a harness that is no longer alive
    leftover = _worker({TRIAL_ENV: "old-trial", HARNESS_PID_ENV: str(dead.pid)})
    ours = _worker(marker_env("live-trial"))
    unmarked = _worker({})
    recycled = _worker(
        {TRIAL_ENV: "old", HARNESS_PID_ENV: str(os.getpid()), HARNESS_START_ENV: "1"}
    )
    try:
        killed = reap_leftovers()
        assert leftover.pid in killed
        assert recycled.pid in killed, "our pid with another start time is a recycled pid"
        assert ours.pid not in killed
        assert unmarked.pid not in killed
        assert leftover.poll() is not None, "killed and reaped by reap_leftovers"
        assert ours.poll() is None
        assert unmarked.poll() is None
    finally:
        for proc in (leftover, ours, unmarked, recycled):
            proc.kill()
            proc.communicate()


def test_free_ports_are_never_handed_out_twice() -> None:
    results: list[int] = []
    lock = threading.Lock()

    def grab() -> None:
        got = [free_port() for _ in range(25)]
        with lock:
            results.extend(got)

    threads = [threading.Thread(target=grab) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert len(set(results)) == len(results) == 200
        assert set(results) <= reserved()
    finally:
        for port in results:
            release(port)
    assert not set(results) & reserved()


def test_port_allocator_releases_its_ports() -> None:
    with PortAllocator() as ports:
        first, second = ports.allocate(), ports.allocate()
        assert first != second
        assert {first, second} <= reserved()
        ports.release(first)
        assert first not in reserved()
        assert ports.ports == [second]
    assert second not in reserved()

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
    return subprocess.Popen(
        [sys.executable, str(PROGRAMS / "worker.py")],
        stdout=subprocess.PIPE,
        env={**os.environ, **env},
    )


def _ready(proc: subprocess.Popen[bytes]) -> bool:
    """Wait for the worker's ready line; False if it died first (end of file)."""
    assert proc.stdout is not None
    return proc.stdout.readline().startswith(b"worker ready")


def test_become_subreaper_is_idempotent() -> None:
    assert become_subreaper()
    assert become_subreaper()
    assert is_subreaper()


def test_leftovers_of_a_dead_harness_are_killed_and_nothing_else() -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # its pid now names a harness that is no longer alive
    leftover = _worker({TRIAL_ENV: "old-trial", HARNESS_PID_ENV: str(dead.pid)})
    recycled = _worker(
        {TRIAL_ENV: "old", HARNESS_PID_ENV: str(os.getpid()), HARNESS_START_ENV: "1"}
    )
    ours = _worker(marker_env("live-trial"))
    unmarked = _worker({})
    try:
        assert _ready(ours)
        assert _ready(unmarked)
        # Marked only once exec'd: wait for that. A harness starting meanwhile (a parallel
        # test worker) rightly kills the two fake leftovers too, perhaps first (end of file).
        _ready(leftover)
        _ready(recycled)
        killed = reap_leftovers()
        leftover.wait(timeout=30)  # ends (reaped by whoever killed it), or times out here
        recycled.wait(timeout=30)  # our pid with another start time is a recycled pid
        assert ours.pid not in killed, "a live harness's process is never a leftover"
        assert unmarked.pid not in killed
        assert ours.poll() is None
        assert unmarked.poll() is None
    finally:
        for proc in (leftover, recycled, ours, unmarked):
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

"""The testbed behind a slow network and on a full disk: the fixes and the bugs that only
these faults reveal (``no-backend-timeout``, ``drop-on-write-error``).

The harness's proxy and disks are the tools here, as a scenario would use them: the
backend listens on a fixed port, the gateway calls it through a proxy; the queue lives on a
tmpfs that a balloon fills.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import wait_until
from testbed_helpers import Factory, Testbed

from harness import disks
from harness.disks import DiskSet
from harness.proxy import Direction, Latency, Proxy, ProxySet

pytestmark = pytest.mark.integration
NO_DISKS = disks.available()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def proxied(testbed: Factory) -> Iterator[tuple[Factory, Proxy, int]]:
    """A proxy in front of a backend port; start a testbed that uses both."""
    backend_port = _free_port()
    proxies = ProxySet()
    proxy = proxies.open(
        "backend", [0], _free_port(), lambda: ("127.0.0.1", backend_port), "127.0.0.1"
    )

    def start(*args: str) -> Testbed:
        return testbed(
            "--modules", "0", "--workers", "0", "--backend-port", str(backend_port),
            "--backend-address", f"127.0.0.1:{proxy.port}", "--retry-window", "500ms", *args,
        )  # fmt: skip

    try:
        yield start, proxy, backend_port
    finally:
        proxies.close()


def test_the_backend_listens_where_told_and_the_gateway_calls_it_through_the_proxy(
    proxied: tuple[Factory, Proxy, int],
) -> None:
    start, proxy, backend_port = proxied
    bed = start()
    assert bed.slot("backend")["port"] == backend_port
    code, answer = bed.http("POST", "/api/echo", {"text": "via"})
    assert (code, answer["text"]) == (200, "via")
    assert proxy.stats().accepted >= 1


def test_a_slow_backend_is_a_fast_503_recovering(proxied: tuple[Factory, Proxy, int]) -> None:
    start, proxy, _ = proxied
    bed = start()
    applied = proxy.apply(Latency(3.0), Direction.DOWNSTREAM)
    try:
        begun = time.monotonic()
        code, answer = bed.http("POST", "/api/echo", {"text": "slow"}, timeout=10)
        took = time.monotonic() - begun
    finally:
        applied.remove()
    assert (code, answer["error"]) == (503, "recovering")
    assert took < 2.0  # the 500 ms retry window, not the 3 s of latency
    assert bed.http("POST", "/api/echo", {"text": "back"})[0] == 200


def test_no_backend_timeout_waits_as_long_as_the_backend_takes(
    proxied: tuple[Factory, Proxy, int],
) -> None:
    start, proxy, _ = proxied
    bed = start("--bugs", "no-backend-timeout")
    applied = proxy.apply(Latency(1.5), Direction.DOWNSTREAM)
    try:
        begun = time.monotonic()
        code, _ = bed.http("POST", "/api/echo", {"text": "slow"}, timeout=10)
        took = time.monotonic() - begun
    finally:
        applied.remove()
    assert code == 200
    assert took >= 1.5  # hung for the whole delay: far past the 500 ms window


# --------------------------------------------------------------------------- a full disk


@pytest.fixture
def on_disk(tmp_path: Path) -> Iterator[DiskSet]:
    made = DiskSet()
    try:
        yield made
    finally:
        made.close()


@pytest.mark.skipif(NO_DISKS is not None, reason=f"disks unavailable here: {NO_DISKS}")
@pytest.mark.parametrize(("bugs", "final"), [("", "finished"), ("drop-on-write-error", "claimed")])
def test_a_job_finished_while_the_disk_is_full(
    on_disk: DiskSet, testbed: Factory, tmp_path: Path, bugs: str, final: str
) -> None:
    """(The disk is set up before the testbed, so the testbed is stopped before the unmount.)"""
    disk = on_disk.add("data", [0], tmp_path / "disk", 8 << 20)
    bed = testbed("--modules", "0", "--workers", "1", "--bugs", bugs, data_dir=disk.path)
    code, made = bed.http("POST", "/jobs", {"seconds": 1.0})
    assert code == 201
    wait_until(
        lambda: bed.http("GET", f"/jobs/{made['id']}")[1]["state"] == "claimed",
        what="the job to be claimed",
    )
    disk.fill()  # it finishes while nothing can be written
    try:
        code, refused = bed.http("POST", "/jobs", {"seconds": 0.1})
        assert (code, refused["error"]) == (507, "storage full")
        wait_until(lambda: "could not record job" in bed.log(), what="the failed write")
    finally:
        disk.unfill()
    if final == "finished":
        wait_until(
            lambda: bed.http("GET", f"/jobs/{made['id']}")[1]["state"] == "finished",
            what="the job to be recorded once space is back",
        )
    else:
        assert bed.http("POST", "/jobs", {"seconds": 0.05})[0] == 201  # the worker moved on
        wait_until(lambda: bed.http("GET", "/jobs")[1]["finished"] == 1, what="the next job")
        assert bed.http("GET", f"/jobs/{made['id']}")[1]["state"] == "claimed"  # lost
    assert "Traceback" not in bed.log()

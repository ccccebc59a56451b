"""Every toxic through a real proxy, judged by what a real TCP client received and when.

Each test starts a server, a proxy ``api`` in front of it, and fires the fault kind the way
the nemesis does (``KIND.run(spec, ctx, Firing)``), then measures at the client. Timing
bounds are the ones the toxic promises (at least the latency, at most a generous slack
above it), never a sleep standing in for an event.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from support import wait_until

from harness.faults.base import Firing
from harness.faults.registry import FAULTS
from harness.observe.events import Event, FaultAction
from harness.proxy import ProxySet
from harness.spec.effects import Effect

from .context import RealContext
from .upstream import Received, Upstream, echo, exchange, record_into, send_then_close

SLACK = 1.0
"""Above a promised delay: two shared, busy cores."""


class Net:
    """A server, a proxy ``api`` in front of it, and a fault context that knows the proxy."""

    def __init__(self, handler: Callable[[socket.socket], None] = echo) -> None:
        self.upstream = Upstream(handler)
        self.proxies = ProxySet()
        self.proxy = self.proxies.open(
            "api", [0], _free_port(), lambda: ("127.0.0.1", self.upstream.port), "127.0.0.1"
        )
        self.port = self.proxy.port
        self.ctx = RealContext(seed=3, proxies=self.proxies)

    def fire(self, kind: str, options: dict[str, Any], index: int = 0) -> None:
        plugin = FAULTS.get(kind)
        plugin.run(plugin.spec.model_validate({"proxy": "api", **options}), self.ctx, Firing(index))

    def actions(self) -> list[FaultAction]:
        return self.ctx.timeline.of(FaultAction)

    def wait_end(self, index: int = 0) -> FaultAction:
        def ended(event: Event) -> bool:
            return isinstance(event, FaultAction) and event.fault == index and event.phase == "end"

        event = self.ctx.timeline.wait_for(ended, timeout=30.0)
        assert isinstance(event, FaultAction), "the toxic was never removed"
        return event

    def close(self) -> None:
        try:
            self.ctx.close()
        finally:
            self.upstream.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def net() -> Iterator[Net]:
    made = Net()
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def make_net() -> Iterator[Callable[..., Net]]:
    made: list[Net] = []

    def make(handler: Callable[[socket.socket], None] = echo) -> Net:
        made.append(Net(handler))
        return made[-1]

    yield make
    for one in made:
        one.close()


def _round_trip(port: int, size: int = 4) -> Received:
    message = b"x" * size
    got = exchange(port, message, expect=size)
    assert got.data == message
    return got


# --------------------------------------------------------------------------- the proxy itself


def test_without_toxics_the_proxy_forwards_both_ways_and_records_nothing(net: Net) -> None:
    got = _round_trip(net.port, 100_000)
    assert got.first_at is not None
    assert got.first_at < SLACK
    assert net.actions() == []
    stats = net.proxy.stats()
    assert (stats.accepted, stats.failed) == (1, 0)


def test_each_application_and_removal_is_on_the_timeline_with_no_effect(net: Net) -> None:
    net.fire("latency", {"latency": "50ms", "for": "200ms"})
    end = net.wait_end()
    start = net.actions()[0]
    assert (start.phase, end.phase) == ("start", "end")
    assert start.effect is Effect.NONE
    assert end.effect is Effect.NONE
    assert start.pids == []
    assert start.instance == 0
    assert start.detail["proxy"] == "api"
    assert start.detail["direction"] == "downstream"
    assert start.detail["latency_s"] == 0.05
    assert start.detail["port"] == net.port
    assert end.t - start.t >= 0.2
    assert end.detail["early"] is False


def test_a_toxic_without_for_is_removed_at_teardown(net: Net) -> None:
    net.fire("latency", {"latency": "5s"})
    net.ctx.run_teardown()
    phases = [(a.phase, a.detail.get("early")) for a in net.actions()]
    assert phases == [("start", None), ("end", True)]
    assert _round_trip(net.port).first_at < SLACK  # type: ignore[operator]


def test_an_unknown_proxy_is_a_miss(net: Net) -> None:
    plugin = FAULTS.get("latency")
    plugin.run(plugin.spec.model_validate({"proxy": "db", "latency": "1s"}), net.ctx, Firing(2))
    [miss] = net.actions()
    assert (miss.fault, miss.phase) == (2, "miss")
    assert "no proxy 'db'" in miss.detail["reason"]


# --------------------------------------------------------------------------- latency


@pytest.mark.parametrize("direction", ["downstream", "upstream"])
def test_latency_delays_every_chunk_then_stops(net: Net, direction: str) -> None:
    net.fire("latency", {"latency": "400ms", "direction": direction, "for": "1.5s"})
    slow = _round_trip(net.port)
    assert slow.first_at is not None
    assert 0.4 <= slow.first_at < 0.4 + SLACK
    net.wait_end()
    fast = _round_trip(net.port)
    assert fast.first_at is not None
    assert fast.first_at < 0.4


def test_latency_is_pipelined_not_a_bandwidth_limit(net: Net) -> None:
    """Ten messages sent back to back on one connection all arrive about one latency after
    their send: the delay is per chunk from its arrival, not one after the other."""
    net.fire("latency", {"latency": "300ms"})
    with socket.create_connection(("127.0.0.1", net.port), timeout=10) as conn:
        start = time.monotonic()
        for _ in range(10):
            conn.sendall(b"y" * 10)
            time.sleep(0.02)  # spaced sends: separate chunks (the pacing is the test's input)
        got = exchange(net.port, b"", expect=100, sock=conn)
        took = time.monotonic() - start
    assert got.data == b"y" * 100
    assert 0.3 + 0.18 <= took < 0.3 + 0.2 + SLACK  # far below 10 x 300 ms


def test_latency_jitter_spreads_delays_within_the_bound(net: Net) -> None:
    net.fire("latency", {"latency": "300ms", "jitter": "200ms"})
    delays = [_round_trip(net.port).first_at or 0.0 for _ in range(8)]
    assert all(0.1 <= d < 0.5 + SLACK for d in delays)
    assert max(delays) - min(delays) > 0.03  # not one fixed delay


# --------------------------------------------------------------------------- bandwidth


def test_bandwidth_limits_throughput_at_the_client(make_net: Callable[..., Net]) -> None:
    payload = b"z" * 150_000
    net = make_net(send_then_close(payload))
    net.fire("bandwidth", {"rate": "100KB/s"})
    got = exchange(net.port, b"g", expect=len(payload))
    assert got.data == payload
    took = got.pieces[-1][0]
    assert 1.35 <= took < 1.5 + SLACK  # 150 kB at 100 kB/s
    assert len(got.pieces) >= 10  # tenth-of-a-second pieces, not one burst


# --------------------------------------------------------------------------- slow_close


def test_slow_close_delays_the_fin_not_the_data(make_net: Callable[..., Net]) -> None:
    net = make_net(send_then_close(b"bye"))
    net.fire("slow_close", {"delay": "700ms"})
    got = exchange(net.port, b"g")
    assert got.data == b"bye"
    assert got.first_at is not None
    assert got.first_at < 0.5
    assert got.ended == "eof"
    assert got.ended_at is not None
    assert 0.7 <= got.ended_at < 0.7 + SLACK


# --------------------------------------------------------------------------- timeout


def test_timeout_stops_data_keeps_the_connection_and_delivers_on_removal(net: Net) -> None:
    net.fire("timeout", {"for": "1s"})
    got = exchange(net.port, b"held", expect=4, wait=10.0)
    assert got.data == b"held"  # nothing lost: held, then delivered in order
    assert got.first_at is not None
    assert 1.0 - 0.1 <= got.first_at < 1.0 + SLACK
    assert got.ended == "open"


def test_timeout_with_timeout_closes_the_connection_after_it(net: Net) -> None:
    net.fire("timeout", {"timeout": "500ms"})
    got = exchange(net.port, b"lost?", wait=10.0)
    assert got.data == b""
    assert got.ended == "eof"
    assert got.ended_at is not None
    assert 0.45 <= got.ended_at < 0.5 + SLACK
    net.ctx.run_teardown()
    assert net.actions()[-1].detail["closed"] == 1


# --------------------------------------------------------------------------- reset_peer


def test_reset_peer_resets_at_the_first_data(net: Net) -> None:
    net.fire("reset_peer", {"direction": "upstream"})
    got = exchange(net.port, b"anyone?")
    assert (got.data, got.ended) == (b"", "reset")


def test_reset_peer_waits_its_timeout(net: Net) -> None:
    net.fire("reset_peer", {"timeout": "600ms"})
    got = exchange(net.port, b"anyone?")
    assert got.data == b""
    assert got.ended == "reset"
    assert got.ended_at is not None
    assert 0.6 <= got.ended_at < 0.6 + SLACK


# --------------------------------------------------------------------------- slicer


def test_slicer_cuts_one_send_into_small_spaced_pieces(make_net: Callable[..., Net]) -> None:
    payload = bytes(range(256)) * 4
    net = make_net(send_then_close(payload))
    net.fire("slicer", {"average_size": "64B", "size_variation": "16B", "delay": "20ms"})
    got = exchange(net.port, b"g", expect=len(payload))
    assert got.data == payload  # in order, nothing lost
    assert len(got.pieces) >= 8
    assert max(size for _, size in got.pieces) <= 2 * (64 + 16)  # a read may join two
    assert got.pieces[-1][0] >= 0.02 * (len(payload) // 80 - 1)


# --------------------------------------------------------------------------- limit_data


def test_limit_data_delivers_exactly_the_limit_then_closes(make_net: Callable[..., Net]) -> None:
    net = make_net(send_then_close(b"0123456789" * 100))
    net.fire("limit_data", {"bytes": "25B"})
    got = exchange(net.port, b"g")
    assert got.data == b"0123456789" * 2 + b"01234"
    assert got.ended == "eof"


def test_limit_data_upstream_counts_what_the_client_sent(make_net: Callable[..., Net]) -> None:
    received: list[bytes] = []
    net = make_net(record_into(received))
    net.fire("limit_data", {"bytes": "3B", "direction": "upstream"})
    got = exchange(net.port, b"abcdef")
    assert got.ended in ("eof", "reset")  # closed on the client too
    assert wait_until(lambda: b"".join(received) == b"abc", what="the server to get 3 bytes")


# --------------------------------------------------------------------------- down


def test_down_refuses_new_cuts_open_and_comes_back(net: Net) -> None:
    with socket.create_connection(("127.0.0.1", net.port), timeout=10) as open_conn:
        assert exchange(net.port, b"hi", expect=2, sock=open_conn).data == b"hi"
        net.fire("down", {"for": "1s"})
        [start] = net.actions()
        assert start.detail["cut"] == 1
        open_conn.settimeout(10)
        assert open_conn.recv(10) == b""  # cut: the proxy closed it
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", net.port), timeout=5).close()
    net.wait_end()
    assert _round_trip(net.port).data == b"xxxx"


def test_overlapping_downs_listen_again_after_the_last(net: Net) -> None:
    net.fire("down", {"for": "200ms"}, index=0)
    net.fire("down", {"for": "1s"}, index=1)
    net.wait_end(0)
    with pytest.raises(ConnectionRefusedError):  # the second still holds it down
        socket.create_connection(("127.0.0.1", net.port), timeout=5).close()
    net.wait_end(1)
    assert _round_trip(net.port).data == b"xxxx"


def test_limit_data_of_zero_closes_every_new_connection_at_once(net: Net) -> None:
    net.fire("limit_data", {"bytes": "0B"})
    got = exchange(net.port, b"anything")
    assert got.data == b""
    assert got.ended in ("eof", "reset")


# --------------------------------------------------------------------------- toxicity


def test_toxicity_zero_acts_on_no_connection(net: Net) -> None:
    net.fire("latency", {"latency": "2s", "toxicity": 0})
    assert all((_round_trip(net.port).first_at or 9.0) < 1.0 for _ in range(3))
    net.ctx.run_teardown()
    assert net.actions()[-1].detail["links"] == 0


def test_toxicity_half_acts_on_some_connections(net: Net) -> None:
    net.fire("latency", {"latency": "300ms", "toxicity": "50%"})
    delays = [_round_trip(net.port).first_at or 0.0 for _ in range(16)]
    slow = sum(d >= 0.3 for d in delays)
    assert 1 <= slow <= 15


# --------------------------------------------------------------------------- safety


def test_an_upstream_that_is_not_loopback_is_never_connected_to() -> None:
    proxies = ProxySet()
    try:
        proxy = proxies.open("out", [0], _free_port(), lambda: ("192.0.2.1", 80), "127.0.0.1")
        got = exchange(proxy.port, b"GET / HTTP/1.0\r\n\r\n", wait=5.0)
        assert got.data == b""
        assert got.ended in ("eof", "reset")
        assert proxy.stats().failed == 1
        assert "not a loopback address" in proxy.last_error
    finally:
        proxies.close()


def test_a_closed_proxy_frees_its_port_and_its_thread() -> None:
    upstream = Upstream()
    proxies = ProxySet()
    try:
        proxy = proxies.open(
            "api", [0], _free_port(), lambda: ("127.0.0.1", upstream.port), "127.0.0.1"
        )
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as held:
            held.sendall(b"x")
            wait_until(lambda: proxy.stats().active == 1, what="the connection to be carried")
            proxies.close()
            held.settimeout(5)
            assert exchange(proxy.port, b"", sock=held).ended == "reset"
        with pytest.raises(ConnectionRefusedError):  # nothing listens there any more
            socket.create_connection(("127.0.0.1", proxy.port), timeout=5).close()
        assert not [t for t in threading.enumerate() if t.name == "chaos-proxy"]
    finally:
        proxies.close()
        upstream.close()

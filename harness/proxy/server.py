"""Proxies on one asyncio event loop thread: listen, connect on, apply and remove toxics.

Why asyncio on one thread rather than a thread per connection: every toxic is a timed
change to live streams (delay this chunk, hold that one until the toxic is removed, close
after N bytes), and on one loop thread a toxic applied, removed or timed out touches every
connection with no lock and no race. Measured by ``bench/proxy_overhead.py``.

``ProxyHost`` owns the thread; its ``Proxy`` handles are what other threads (the nemesis,
the trial) call, each call a coroutine run on the loop and awaited with a deadline. The
proxy's sockets live in the harness process, never in the system's tree, so the tracker
and its port watcher never take them for the system's.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, TypeVar

from harness.proxy.link import BUFFER_LIMIT, Link
from harness.proxy.toxics import Active, Direction, Toxic
from harness.spec.loopback import is_loopback

T = TypeVar("T")
Target = Callable[[], tuple[str, int]]
"""The address to connect on to, asked for every new connection (it may change: a
``{ready.port}`` known only once the system is ready)."""

CALL_TIMEOUT_S = 5.0
CONNECT_TIMEOUT_S = 5.0
_ACCEPT_STEPS = 5
"""Loop iterations from a kernel accept to the protocol's ``connection_made``."""
RELISTEN_S = 2.0
"""How long ``up`` retries to listen again on its port, if something took it meanwhile."""


class ProxyError(RuntimeError):
    """A proxy could not do what was asked (its port is taken, its loop is gone)."""


@dataclass(frozen=True)
class ToxicReport:
    """What one toxic did by the time it was removed."""

    links: int
    """Connections it acted on."""
    closed: int
    """Connections it closed or reset."""


@dataclass(frozen=True)
class ProxyStats:
    accepted: int
    active: int
    failed: int
    """Connections accepted but not carried on: the target refused, or none was known."""
    bytes_up: int
    bytes_down: int


class _Core:
    """One proxy's state; touched only on the loop thread."""

    def __init__(self, host: str, port: int, target: Target) -> None:
        self.host = host
        self.port = port
        self.target = target
        self.server: asyncio.Server | None = None
        self.links: set[Link] = set()
        self.toxics: list[Active] = []
        self.accepted = 0
        self.failed = 0
        self.bytes = dict.fromkeys(Direction, 0)
        self.last_error = ""
        self.downs = 0
        self.clients: set[asyncio.Transport] = set()
        """Every accepted client socket from its first instant (``_Accepted``), so a
        close never misses one whose handler has not started yet."""

    async def listen(self, deadline: float = 0.0) -> None:
        while self.server is None:
            try:
                loop = asyncio.get_running_loop()
                self.server = await loop.create_server(
                    lambda: _Accepted(self), self.host, self.port, reuse_address=True, backlog=256
                )
                return
            except OSError as exc:
                if time.monotonic() >= deadline:
                    raise ProxyError(f"cannot listen on {self.host}:{self.port}: {exc}") from exc
                await asyncio.sleep(0.05)

    def stop_listening(self) -> None:
        """Close the listening socket now (new connections are refused at once). Not
        ``wait_closed``: on 3.11 it waits for the open connections, which we cut next."""
        server, self.server = self.server, None
        if server is not None:
            server.close()

    def cut(self, reset: bool = False) -> int:
        links = list(self.links)
        for link in links:
            link.reset() if reset else link.close()
        return len(links)

    def abort_all(self) -> None:
        """Every client socket still open, linked or not yet: reset now."""
        self.cut(reset=True)
        for transport in list(self.clients):
            transport.abort()

    def apply(self, active: Active) -> int:
        self.toxics.append(active)
        for link in list(self.links):
            link.add(active)
        return active.links

    def remove(self, active: Active) -> ToxicReport:
        if active in self.toxics:
            self.toxics.remove(active)
        active.removed.set()
        for link in list(self.links):
            link.remove(active)
        return ToxicReport(links=active.links, closed=active.closed)

    def stats(self) -> ProxyStats:
        up, down = self.bytes[Direction.UPSTREAM], self.bytes[Direction.DOWNSTREAM]
        for link in self.links:
            up += link.bytes[Direction.UPSTREAM]
            down += link.bytes[Direction.DOWNSTREAM]
        return ProxyStats(self.accepted, len(self.links), self.failed, up, down)

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        try:
            host, port = self.target()
            if not is_loopback(host):
                raise ProxyError(f"refusing to connect on to {host!r}: not a loopback address")
            server = await asyncio.wait_for(
                asyncio.open_connection(host, port, limit=BUFFER_LIMIT), CONNECT_TIMEOUT_S
            )
        except asyncio.CancelledError:  # the proxy is closing while this one connects
            writer.transport.abort()
            raise
        except (OSError, TimeoutError, ValueError, KeyError, ProxyError) as exc:
            self.failed += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            writer.close()
            return
        if self.server is None:  # went down while connecting
            server[1].close()
            writer.close()
            return
        link = Link((reader, writer), server, self._closed)
        self.links.add(link)
        for active in self.toxics:
            link.add(active)
        link.start()

    def _closed(self, link: Link) -> None:
        if link in self.links:
            self.links.discard(link)
            for direction in Direction:
                self.bytes[direction] += link.bytes[direction]


class _Accepted(asyncio.StreamReaderProtocol):
    """``start_server``'s protocol, registering each client transport the moment it is
    accepted: a task not yet started when the loop ends would otherwise leave it open."""

    def __init__(self, core: _Core) -> None:
        super().__init__(asyncio.StreamReader(BUFFER_LIMIT), core._connected)
        self._core = core

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._client = transport
        self._core.clients.add(transport)
        super().connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self._core.clients.discard(self._client)
        super().connection_lost(exc)


class Proxy:
    """A thread-safe handle on one proxy: ``127.0.0.1:port`` → its target."""

    def __init__(self, host: ProxyHost, name: str, core: _Core) -> None:
        self._host = host
        self._core = core
        self.name = name
        self.listen_host = core.host
        self.port = core.port

    def apply(
        self, toxic: Toxic, direction: Direction, *, toxicity: float = 1.0, seed: int = 0
    ) -> Applied:
        """Put ``toxic`` on every connection, now and new, until the handle is removed."""

        async def run() -> Applied:
            active = Active(toxic, direction, toxicity, seed)
            links = self._core.apply(active)
            return Applied(self, active, links)

        return self._host.call(run())

    def down(self) -> int:
        """Refuse new connections (nothing listens) and close every open one: how many.
        Downs nest: the proxy listens again once every ``down`` has had its ``up``."""

        async def run() -> int:
            self._core.downs += 1
            self._core.stop_listening()
            return self._core.cut()

        return self._host.call(run())

    def up(self) -> None:
        """Listen again on the same port (unless another ``down`` still holds it down)."""

        async def run() -> None:
            self._core.downs = max(0, self._core.downs - 1)
            if self._core.downs == 0:
                await self._core.listen(time.monotonic() + RELISTEN_S)

        self._host.call(run(), RELISTEN_S + 1.0)

    def stats(self) -> ProxyStats:
        async def run() -> ProxyStats:
            return self._core.stats()

        return self._host.call(run())

    @property
    def last_error(self) -> str:
        """Why the last connection could not be carried on ("" if none failed)."""
        return self._core.last_error

    def _remove(self, active: Active) -> ToxicReport:
        async def run() -> ToxicReport:
            return self._core.remove(active)

        return self._host.call(run())


class Applied:
    """One toxic on one proxy; ``remove`` takes it off (once) and says what it did."""

    def __init__(self, proxy: Proxy, active: Active, links: int) -> None:
        self.proxy = proxy
        self.links_at_start = links
        """Connections open when it was applied that it acts on."""
        self._active = active
        self._report: ToxicReport | None = None
        self._lock = threading.Lock()

    def remove(self) -> ToxicReport:
        with self._lock:
            if self._report is None:
                self._report = self.proxy._remove(self._active)
            return self._report


class ProxyHost:
    """The event loop thread of one trial's proxies; ``close`` ends them all."""

    def __init__(self, name: str = "chaos-proxy") -> None:
        self._loop = asyncio.new_event_loop()
        self._loop.set_exception_handler(self._unexpected)
        self.errors: list[str] = []
        """What went wrong inside the loop that no connection handled (our bug, or a race
        worth knowing): kept for the trial's record instead of printed."""
        self._cores: list[_Core] = []
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def open(self, name: str, port: int, target: Target, host: str = "127.0.0.1") -> Proxy:
        """A proxy listening on ``host:port`` now (loopback only), forwarding to ``target``."""
        if not is_loopback(host):
            raise ProxyError(f"a proxy listens on loopback only, not {host!r}")
        core = _Core(host, port, target)
        self.call(core.listen())
        self._cores.append(core)
        return Proxy(self, name, core)

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = CALL_TIMEOUT_S) -> T:
        """Run ``coro`` on the loop and wait for its result."""
        if self._closed:
            coro.close()
            raise ProxyError("the proxies of this trial are closed")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        except FutureTimeout:
            future.cancel()
            raise ProxyError(f"the proxy loop did not answer within {timeout:g}s") from None

    def close(self) -> None:
        """Stop listening, close every connection, end the loop and join its thread."""
        if self._closed:
            return

        async def shutdown() -> None:
            for core in self._cores:
                core.toxics.clear()
                core.stop_listening()
            for _ in range(_ACCEPT_STEPS):  # a connection accepted just now gets its transport
                await asyncio.sleep(0)
            for core in self._cores:
                core.abort_all()

        with contextlib.suppress(ProxyError):
            self.call(shutdown())
        self._closed = True
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(CALL_TIMEOUT_S)

    def _unexpected(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        error = context.get("exception")
        message = str(context.get("message", "error"))
        self.errors.append(f"{message}: {error!r}" if error is not None else message)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
        finally:
            pending = asyncio.all_tasks(self._loop)
            for task in pending:
                task.cancel()
            if pending:
                self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.close()

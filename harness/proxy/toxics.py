"""The toxics: what one fault does to the bytes of one direction of every connection.

Modelled on Toxiproxy's toxics and named like them (``latency``, ``bandwidth``,
``slow_close``, ``timeout``, ``reset_peer``, ``slicer``, ``limit_data``). A ``Toxic`` is the
frozen configuration; each connection it acts on gets its own ``Stage`` (its state: bytes
sent so far, the bandwidth clock), built on the proxy's event loop. A direction's stages
form a chain in the order the toxics were applied; each passes chunks on through ``emit``.

Where we differ from Toxiproxy, on purpose: ``timeout`` *holds* data instead of dropping
it (a black-holed TCP link retransmits, so the bytes arrive once the link is back, in
order), and every wait ends the moment its toxic is removed, so nothing is lost and no
delay outlives its fault.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Protocol


class Direction(StrEnum):
    """Toxiproxy's streams: ``upstream`` is client → system, ``downstream`` the answers."""

    UPSTREAM = "upstream"
    DOWNSTREAM = "downstream"


@dataclass(frozen=True)
class Chunk:
    """Bytes read from one side, and when they are due (the loop's clock)."""

    data: bytes
    t: float


Emit = Callable[[Chunk], Awaitable[None]]
EmitEnd = Callable[[], Awaitable[None]]


class LinkControl(Protocol):
    """What a stage may do to its connection."""

    def close(self) -> None:
        """Send what was written, then close both sides (FIN)."""
        ...

    def reset(self) -> None:
        """Drop everything and reset both sides (RST: "connection reset by peer")."""
        ...


class Active:
    """One applied toxic, on the loop thread: removed once, counts what it touched."""

    def __init__(self, toxic: Toxic, direction: Direction, toxicity: float, seed: int) -> None:
        self.toxic = toxic
        self.direction = direction
        self.toxicity = toxicity
        self.rng = random.Random(seed)
        self.removed = asyncio.Event()
        self.links = 0
        """Connections it acted on."""
        self.closed = 0
        """Connections it closed or reset."""

    def selects(self) -> bool:
        """Toxiproxy's ``toxicity``: the share of connections the toxic acts on."""
        return self.toxicity >= 1.0 or self.rng.random() < self.toxicity


class Stage:
    """One toxic on one direction of one connection. The base passes everything on."""

    def __init__(self, active: Active, link: LinkControl) -> None:
        self.active = active
        self.link = link
        self.loop = asyncio.get_running_loop()

    def attach(self) -> None:
        """The toxic starts acting on this connection (a toxic applied, or a new link)."""

    def detach(self) -> None:
        """The toxic was removed, or the connection closed."""

    async def feed(self, chunk: Chunk, emit: Emit) -> None:
        await emit(chunk)

    async def end(self, emit_end: EmitEnd) -> None:
        """The source closed its side (EOF)."""
        await emit_end()

    async def pause(self, seconds: float) -> bool:
        """Wait ``seconds``, or less if the toxic is removed: True when it was removed."""
        if self.active.removed.is_set():
            return True
        if seconds <= 0:
            return False
        try:
            await asyncio.wait_for(self.active.removed.wait(), seconds)
        except TimeoutError:
            return False
        return True

    def closing(self, reset: bool = False) -> None:
        """Close (or reset) the connection, counted against this toxic."""
        self.active.closed += 1
        if reset:
            self.link.reset()
        else:
            self.link.close()


class Toxic:
    """A toxic's configuration; ``stage`` makes its per-connection state."""

    name: ClassVar[str] = "noop"

    def stage(self, active: Active, link: LinkControl) -> Stage:
        return Stage(active, link)

    def options(self) -> dict[str, object]:
        """What the timeline records about it."""
        return {}


# --------------------------------------------------------------------------- latency


@dataclass(frozen=True)
class Latency(Toxic):
    """Every chunk is delayed ``latency`` ± ``jitter`` seconds from when it was read.

    Chunks are delayed in a pipeline, each from its own arrival, so latency does not
    become a bandwidth limit.
    """

    name: ClassVar[str] = "latency"
    latency: float
    jitter: float = 0.0

    def stage(self, active: Active, link: LinkControl) -> Stage:
        return _LatencyStage(active, link, self)

    def options(self) -> dict[str, object]:
        return {"latency_s": self.latency, "jitter_s": self.jitter}


class _LatencyStage(Stage):
    def __init__(self, active: Active, link: LinkControl, toxic: Latency) -> None:
        super().__init__(active, link)
        self.toxic = toxic

    async def feed(self, chunk: Chunk, emit: Emit) -> None:
        jitter = self.toxic.jitter
        delay = self.toxic.latency + (self.active.rng.uniform(-jitter, jitter) if jitter else 0.0)
        due = chunk.t + max(0.0, delay)
        await self.pause(due - self.loop.time())
        await emit(Chunk(chunk.data, due))


# --------------------------------------------------------------------------- bandwidth


@dataclass(frozen=True)
class Bandwidth(Toxic):
    """At most ``rate`` bytes per second, sent in pieces of a tenth of a second's worth."""

    name: ClassVar[str] = "bandwidth"
    rate: float

    def stage(self, active: Active, link: LinkControl) -> Stage:
        return _BandwidthStage(active, link, self)

    def options(self) -> dict[str, object]:
        return {"rate_bytes_s": self.rate}


class _BandwidthStage(Stage):
    def __init__(self, active: Active, link: LinkControl, toxic: Bandwidth) -> None:
        super().__init__(active, link)
        self.rate = toxic.rate
        self.piece = max(1, int(toxic.rate / 10))
        self.clock = 0.0
        """When the bytes sent so far are paid for, at ``rate``."""

    async def feed(self, chunk: Chunk, emit: Emit) -> None:
        data = chunk.data
        for start in range(0, len(data), self.piece):
            part = data[start : start + self.piece]
            now = self.loop.time()
            self.clock = max(self.clock, now) + len(part) / self.rate
            if await self.pause(self.clock - now):
                await emit(Chunk(data[start:], chunk.t))  # removed: the rest at once
                return
            await emit(Chunk(part, chunk.t))


# --------------------------------------------------------------------------- slicer


@dataclass(frozen=True)
class Slicer(Toxic):
    """Chunks cut into slices of ``average_size`` ± ``size_variation`` bytes, each followed
    by ``delay``: a reader that assumes one ``recv`` is one message breaks."""

    name: ClassVar[str] = "slicer"
    average_size: int
    size_variation: int = 0
    delay: float = 0.0

    def stage(self, active: Active, link: LinkControl) -> Stage:
        return _SlicerStage(active, link, self)

    def options(self) -> dict[str, object]:
        return {
            "average_size": self.average_size,
            "size_variation": self.size_variation,
            "delay_s": self.delay,
        }


class _SlicerStage(Stage):
    def __init__(self, active: Active, link: LinkControl, toxic: Slicer) -> None:
        super().__init__(active, link)
        self.toxic = toxic

    async def feed(self, chunk: Chunk, emit: Emit) -> None:
        data, at = chunk.data, 0
        spread = self.toxic.size_variation
        while at < len(data):
            size = self.toxic.average_size + self.active.rng.randint(-spread, spread)
            part = data[at : at + max(1, size)]
            at += len(part)
            await emit(Chunk(part, chunk.t))
            if await self.pause(self.toxic.delay):
                if at < len(data):
                    await emit(Chunk(data[at:], chunk.t))
                return


# --------------------------------------------------------------------------- slow_close


@dataclass(frozen=True)
class SlowClose(Toxic):
    """The close (FIN) of this direction is passed on ``delay`` late."""

    name: ClassVar[str] = "slow_close"
    delay: float

    def stage(self, active: Active, link: LinkControl) -> Stage:
        return _SlowCloseStage(active, link, self)

    def options(self) -> dict[str, object]:
        return {"delay_s": self.delay}


class _SlowCloseStage(Stage):
    def __init__(self, active: Active, link: LinkControl, toxic: SlowClose) -> None:
        super().__init__(active, link)
        self.delay = toxic.delay

    async def end(self, emit_end: EmitEnd) -> None:
        await self.pause(self.delay)
        await emit_end()


# --------------------------------------------------------------------------- timeout


@dataclass(frozen=True)
class Timeout(Toxic):
    """No data passes while the toxic is on: it is held, and flows on, in order, when the
    toxic is removed. With ``timeout``, the connection is closed that long after the toxic
    reached it (a middlebox dropping an idle flow); without, it stays open."""

    name: ClassVar[str] = "timeout"
    timeout: float | None = None

    def stage(self, active: Active, link: LinkControl) -> Stage:
        return _TimeoutStage(active, link, self)

    def options(self) -> dict[str, object]:
        return {"timeout_s": self.timeout}


class _TimeoutStage(Stage):
    def __init__(self, active: Active, link: LinkControl, toxic: Timeout) -> None:
        super().__init__(active, link)
        self.timeout = toxic.timeout
        self.timer: asyncio.TimerHandle | None = None

    def attach(self) -> None:
        if self.timeout is not None:
            self.timer = self.loop.call_later(self.timeout, self.closing)

    def detach(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    async def feed(self, chunk: Chunk, emit: Emit) -> None:
        await self.active.removed.wait()
        await emit(chunk)

    async def end(self, emit_end: EmitEnd) -> None:
        await self.active.removed.wait()
        await emit_end()


# --------------------------------------------------------------------------- reset_peer


@dataclass(frozen=True)
class ResetPeer(Toxic):
    """The first data in this direction resets the connection (RST on both sides), at once
    or ``timeout`` after it arrived; that data is never delivered."""

    name: ClassVar[str] = "reset_peer"
    timeout: float = 0.0

    def stage(self, active: Active, link: LinkControl) -> Stage:
        return _ResetStage(active, link, self)

    def options(self) -> dict[str, object]:
        return {"timeout_s": self.timeout}


class _ResetStage(Stage):
    def __init__(self, active: Active, link: LinkControl, toxic: ResetPeer) -> None:
        super().__init__(active, link)
        self.timeout = toxic.timeout

    async def feed(self, chunk: Chunk, emit: Emit) -> None:
        if await self.pause(self.timeout):
            await emit(chunk)  # removed before it fired: the data goes on
            return
        self.closing(reset=True)


# --------------------------------------------------------------------------- limit_data


@dataclass(frozen=True)
class LimitData(Toxic):
    """The connection is closed once ``bytes`` have passed in this direction since the toxic
    reached it; the peer receives exactly that many, then the close."""

    name: ClassVar[str] = "limit_data"
    bytes: int

    def stage(self, active: Active, link: LinkControl) -> Stage:
        return _LimitStage(active, link, self)

    def options(self) -> dict[str, object]:
        return {"bytes": self.bytes}


class _LimitStage(Stage):
    def __init__(self, active: Active, link: LinkControl, toxic: LimitData) -> None:
        super().__init__(active, link)
        self.limit = toxic.bytes
        self.sent = 0

    def attach(self) -> None:
        if self.limit <= 0:
            self.closing()

    async def feed(self, chunk: Chunk, emit: Emit) -> None:
        left = self.limit - self.sent
        data = chunk.data[: max(0, left)]
        if data:
            self.sent += len(data)
            await emit(Chunk(data, chunk.t))
        if self.sent >= self.limit:
            self.closing()


__all__ = [
    "Active",
    "Bandwidth",
    "Chunk",
    "Direction",
    "Latency",
    "LimitData",
    "LinkControl",
    "ResetPeer",
    "Slicer",
    "SlowClose",
    "Stage",
    "Timeout",
    "Toxic",
]

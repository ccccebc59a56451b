"""One proxied connection: the client's socket, the system's socket, a pump each way.

Each direction reads into a small bounded queue (so a held or slowed stream pushes back on
its sender through TCP, as a slow network would) and writes through the chain of stages
its toxics put on it, taken afresh for every chunk: a toxic applied or removed acts on the
very next chunk. A close (EOF) on one side is passed on as a half-close, so a client that
shuts down its writing side still gets its answer; the link ends when both directions
have, or when a toxic or the proxy closes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Callable

from harness.proxy.toxics import Active, Chunk, Direction, Stage

READ_SIZE = 1 << 18
BUFFER_LIMIT = 1 << 18
"""What a stream reader buffers before it stops reading (asyncio's default is 64 KiB:
measured, 256 KiB reads carry a stream at about twice the rate)."""
QUEUE_CHUNKS = 8
"""At most this many chunks read ahead per direction: then TCP pushes back."""
_RST = struct.pack("ii", 1, 0)


class Link:
    """A client connection and its connection to the system, on the proxy's loop."""

    def __init__(
        self,
        client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        server: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        on_closed: Callable[[Link], None],
    ) -> None:
        self._writers = (client[1], server[1])
        self._on_closed = on_closed
        self.closed = False
        self.stages: dict[Direction, list[tuple[Active, Stage]]] = {d: [] for d in Direction}
        self.bytes: dict[Direction, int] = dict.fromkeys(Direction, 0)
        self._pumps = {
            Direction.UPSTREAM: _Pump(self, Direction.UPSTREAM, client[0], server[1]),
            Direction.DOWNSTREAM: _Pump(self, Direction.DOWNSTREAM, server[0], client[1]),
        }
        self._done: set[Direction] = set()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        if self.closed:  # a toxic closed it the moment it was made (limit_data: 0B)
            return
        for pump in self._pumps.values():
            self._tasks += [asyncio.create_task(pump.read()), asyncio.create_task(pump.write())]

    # ------------------------------------------------------------------ toxics

    def add(self, active: Active) -> None:
        """Let ``active`` act on this connection, if its ``toxicity`` draw selects it."""
        if self.closed or not active.selects():
            return
        stage = active.toxic.stage(active, self)
        self.stages[active.direction].append((active, stage))
        active.links += 1
        stage.attach()

    def remove(self, active: Active) -> None:
        chain = self.stages[active.direction]
        for entry in [e for e in chain if e[0] is active]:
            chain.remove(entry)
            entry[1].detach()

    # ------------------------------------------------------------------ ending

    def pump_done(self, direction: Direction) -> None:
        self._done.add(direction)
        if len(self._done) == len(self._pumps):
            self.close()

    def close(self) -> None:
        """Flush what was written to each side, then close both (FIN)."""
        self._end(reset=False)

    def reset(self) -> None:
        """Close both sides at once with RST, dropping anything unsent."""
        self._end(reset=True)

    def _end(self, *, reset: bool) -> None:
        if self.closed:
            return
        self.closed = True
        for task in self._tasks:
            task.cancel()
        for writer in self._writers:
            if reset:
                sock = writer.get_extra_info("socket")
                with contextlib.suppress(OSError):
                    if sock is not None:
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RST)
                writer.transport.abort()
            else:
                writer.close()
        for chain in self.stages.values():
            for _, stage in chain:
                stage.detach()
            chain.clear()
        self._on_closed(self)


class _Pump:
    """One direction: source reader → queue → stages → destination writer."""

    def __init__(
        self,
        link: Link,
        direction: Direction,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.link = link
        self.direction = direction
        self.reader = reader
        self.writer = writer
        self.queue: asyncio.Queue[Chunk | None] = asyncio.Queue(QUEUE_CHUNKS)

    async def read(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                data = await self.reader.read(READ_SIZE)
            except OSError:  # the peer reset its connection: so do we, on the other side
                self.link.reset()
                return
            await self.queue.put(Chunk(data, loop.time()) if data else None)
            if not data:
                return

    async def write(self) -> None:
        try:
            while True:
                chunk = await self.queue.get()
                stages = [stage for _, stage in self.link.stages[self.direction]]
                if chunk is None:
                    await self._end(stages, 0)
                    return
                await self._feed(stages, 0, chunk)
        except OSError:  # the destination is gone: nothing more can be delivered
            self.link.close()

    async def _feed(self, stages: list[Stage], at: int, chunk: Chunk) -> None:
        if at < len(stages):
            await stages[at].feed(chunk, lambda c: self._feed(stages, at + 1, c))
            return
        if self.link.closed:
            return
        self.writer.write(chunk.data)
        self.link.bytes[self.direction] += len(chunk.data)
        await self.writer.drain()

    async def _end(self, stages: list[Stage], at: int) -> None:
        if at < len(stages):
            await stages[at].end(lambda: self._end(stages, at + 1))
            return
        if not self.link.closed and self.writer.can_write_eof():
            self.writer.write_eof()
        self.link.pump_done(self.direction)

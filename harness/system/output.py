"""Drain a launched root's stdout and stderr into bounded records, never blocking it.

A system that writes faster than anyone reads stalls on a full pipe, and a harness that
keeps all it reads runs out of memory (200 MB of output once made a 235 MB journal). So one
reader thread per root reads both pipes whatever happens, and everything it keeps is
bounded, per stream:

- a line longer than ``line_chars`` is cut there, with a marker, and the rest of it up to
  the newline is read and discarded (a 200 MB line with no newline costs no memory);
- the first ``timeline_lines`` lines (or ``timeline_chars`` of text) become ``LogLine``
  events; after that only a line matching one of ``keep`` (the scenario's own patterns:
  readiness, the ``log`` and ``exit`` invariants) is recorded, up to ``keep_lines`` more
  per pattern, so every check that reads the timeline still sees the lines it looks for;
  a ``HarnessNote`` marks the moment the budget ran out, and another gives the counts;
- the tail (what a failed trial shows) keeps the last ``tail_lines`` lines and at most
  ``tail_chars`` of text.

Output is decoded as UTF-8 (a bad byte becomes U+FFFD) as it arrives, a chunk at a time:
past the budget a line costs a split and one search per pattern, nothing more.
"""

from __future__ import annotations

import codecs
import os
import re
import selectors
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from itertools import count, islice
from typing import IO

from harness.observe.events import HarnessNote, LogLine, NoteLevel
from harness.observe.timeline import Timeline

_CHUNK = 65536
_CLOSE_JOIN_S = 2.0
_LINGER_S = 0.2


@dataclass(frozen=True)
class OutputLimits:
    """How much of each output stream of one root is kept (see the module docstring)."""

    line_chars: int = 64 * 1024
    timeline_lines: int = 10_000
    timeline_chars: int = 4 * 1024 * 1024
    keep: tuple[re.Pattern[str], ...] = ()
    keep_lines: int = 1_000
    tail_lines: int = 200
    tail_chars: int = 128 * 1024

    def cut_marker(self) -> str:
        """What ends a line that was cut."""
        return f" [... cut by chaos: line longer than {self.line_chars:,} characters]"


@dataclass
class StreamStats:
    """What one stream carried, and how much of it was kept."""

    lines: int = 0
    """Lines read (a cut line counts once)."""
    bytes: int = 0
    """Bytes read, newlines included."""
    recorded: int = 0
    """Lines put on the timeline as ``LogLine`` events."""
    kept_by_pattern: int = 0
    """Of ``recorded``, lines past the budget recorded because they matched a pattern."""
    cut: int = 0
    """Lines longer than the limit, cut with a marker."""
    cut_chars: int = 0
    """Characters of cut lines that were read and discarded."""

    @property
    def dropped(self) -> int:
        """Lines read that are not on the timeline."""
        return self.lines - self.recorded


@dataclass
class _Stream:
    name: str
    keep_counts: list[int]
    decoder: codecs.IncrementalDecoder = field(
        default_factory=lambda: codecs.getincrementaldecoder("utf-8")(errors="replace")
    )
    stats: StreamStats = field(default_factory=StreamStats)
    partial: str = ""
    discarding: bool = False
    """Inside a cut line: everything up to the next newline is dropped."""
    recorded_chars: int = 0
    budget_open: bool = True
    tail: deque[tuple[int, str]] = field(default_factory=deque)
    tail_chars: int = 0


class OutputCapture:
    """Reads the pipes of one root on its own thread; see the module docstring."""

    def __init__(
        self,
        pipes: Mapping[str, IO[bytes] | None],
        *,
        instance: int,
        timeline: Timeline,
        limits: OutputLimits,
        name: str = "chaos-output",
    ) -> None:
        self.instance = instance
        self.limits = limits
        self._timeline = timeline
        self._pipes = {n: p for n, p in pipes.items() if p is not None}
        self._streams = {n: _Stream(n, [0] * len(limits.keep)) for n in self._pipes}
        self._marker = limits.cut_marker()
        self._seq = 0
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = os.pipe()
        self._closed = False
        self._thread = threading.Thread(target=self._read, name=name, daemon=True)

    # ------------------------------------------------------------------ public

    def start(self) -> None:
        """Start reading (once the root's ``SystemStart`` is on the timeline)."""
        self._thread.start()

    def tail(self) -> list[str]:
        """The last lines of every stream, interleaved in the order they were read."""
        with self._lock:
            merged = sorted(item for s in self._streams.values() for item in s.tail)
        return [line for _, line in merged]

    def stats(self) -> dict[str, StreamStats]:
        """A copy of each stream's counts, by stream name."""
        with self._lock:
            return {name: replace(s.stats) for name, s in self._streams.items()}

    @property
    def done(self) -> bool:
        """True once every stream reached end of file (or reading was stopped)."""
        return not self._thread.is_alive()

    def wait(self, timeout: float) -> bool:
        """Wait until every stream reaches end of file (every writer has exited)."""
        if self._thread.ident is None:
            return False
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def close(self, *, writers_gone: bool) -> None:
        """Stop reading and close the pipes, then record the counts; idempotent.

        What is already written is drained first: up to 2 s when every writer is known to
        be gone (``writers_gone``), else briefly; a stray writer still holding a pipe is
        then left behind by waking the reader.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self._thread.ident is None:
            self._thread.start()
        self._thread.join(_CLOSE_JOIN_S if writers_gone else _LINGER_S)
        if self._thread.is_alive():
            os.write(self._wake_w, b"x")
            self._thread.join(_CLOSE_JOIN_S)
        os.close(self._wake_w)
        if not self._thread.is_alive():
            os.close(self._wake_r)
            for stream in self._streams.values():
                self._note_counts(stream)

    # ------------------------------------------------------------------ reader thread

    def _read(self) -> None:
        try:
            self._pump()
        finally:  # whatever ends the loop, the pipes are ours to close
            for pipe in self._pipes.values():
                pipe.close()

    def _pump(self) -> None:
        names: dict[int, str] = {}
        with selectors.DefaultSelector() as selector:
            for name, pipe in self._pipes.items():
                names[pipe.fileno()] = name
                selector.register(pipe.fileno(), selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            open_fds = set(names)
            while open_fds:
                for key, _ in selector.select():
                    fd = int(key.fd)
                    if fd == self._wake_r:
                        open_fds.clear()
                        break
                    stream = self._streams[names[fd]]
                    data = os.read(fd, _CHUNK)
                    stream.stats.bytes += len(data)
                    self._feed(stream, stream.decoder.decode(data, final=not data))
                    if not data:
                        selector.unregister(fd)
                        open_fds.discard(fd)
                        if stream.partial and not stream.discarding:  # no final newline
                            self._take(stream, [stream.partial])
                        stream.partial = ""

    def _feed(self, stream: _Stream, text: str) -> None:
        """Split ``text`` into lines, the first joined to the partial line before it."""
        limit = self.limits.line_chars
        *complete, rest = text.split("\n")
        if complete:
            if stream.discarding:  # the newline that ends a cut line
                stream.stats.cut_chars += len(complete[0])
                stream.discarding = False
                del complete[0]
            elif stream.partial:
                complete[0] = stream.partial + complete[0]
            stream.partial = ""
            if "\r" in text:
                complete = [line.rstrip("\r") for line in complete]
            if complete and max(map(len, complete)) > limit:
                complete = [self._cut(stream, line) for line in complete]
            self._take(stream, complete)
        elif stream.discarding:
            stream.stats.cut_chars += len(rest)
            return
        stream.partial += rest
        if len(stream.partial) > limit:  # cut now: the rest may never come
            self._take(stream, [self._cut(stream, stream.partial)])
            stream.partial = ""
            stream.discarding = True

    def _cut(self, stream: _Stream, line: str) -> str:
        limit = self.limits.line_chars
        if len(line) <= limit:
            return line
        stream.stats.cut += 1
        stream.stats.cut_chars += len(line) - limit
        return line[:limit] + self._marker

    def _take(self, stream: _Stream, lines: list[str]) -> None:
        """Count ``lines``, keep the last of them in the tail, record those wanted."""
        limits = self.limits
        first = self._seq
        self._seq += len(lines)
        stream.stats.lines += len(lines)
        kept = max(0, len(lines) - limits.tail_lines)
        with self._lock:
            tail = stream.tail
            for item in zip(count(first + kept), islice(lines, kept, None), strict=False):
                tail.append(item)
                stream.tail_chars += len(item[1])
            while len(tail) > limits.tail_lines or (
                stream.tail_chars > limits.tail_chars and len(tail) > 1
            ):
                stream.tail_chars -= len(tail.popleft()[1])
        start = self._within_budget(stream, lines) if stream.budget_open else 0
        if start < len(lines) and any(n < limits.keep_lines for n in stream.keep_counts):
            for line in self._matching(stream, lines, start):
                stream.stats.kept_by_pattern += 1
                self._record(stream, line)

    def _within_budget(self, stream: _Stream, lines: list[str]) -> int:
        """Record lines while the budget lasts; the index of the first one it did not take."""
        limits = self.limits
        for index, line in enumerate(lines):
            if (
                stream.stats.recorded >= limits.timeline_lines
                or stream.recorded_chars + len(line) > limits.timeline_chars
            ):
                stream.budget_open = False
                self._note_budget(stream)
                return index
            stream.recorded_chars += len(line)
            self._record(stream, line)
        return len(lines)

    def _matching(self, stream: _Stream, lines: list[str], start: int) -> list[str]:
        """Lines from ``start`` on that match a pattern not yet at ``keep_lines``, in order."""
        chosen: set[int] = set()
        for index, pattern in enumerate(self.limits.keep):
            room = self.limits.keep_lines - stream.keep_counts[index]
            if room <= 0:
                continue
            search = pattern.search
            hits = (i for i in range(start, len(lines)) if search(lines[i]))
            found = list(islice(hits, room))
            stream.keep_counts[index] += len(found)
            chosen.update(found)
        return [lines[i] for i in sorted(chosen)]

    def _record(self, stream: _Stream, line: str) -> None:
        stream.stats.recorded += 1
        self._timeline.record(
            LogLine(t=self._timeline.now(), instance=self.instance, stream=stream.name, line=line)
        )

    # ------------------------------------------------------------------ notes

    def _note(self, level: NoteLevel, message: str) -> None:
        self._timeline.record(HarnessNote(t=self._timeline.now(), level=level, message=message))

    def _note_budget(self, stream: _Stream) -> None:
        limits = self.limits
        if limits.keep:
            kept = (
                "the timeline gets only lines matching one of the scenario's log patterns"
                f" (up to {limits.keep_lines:,} more per pattern)"
            )
        else:
            kept = "no line goes on the timeline (the scenario declares no log pattern)"
        self._note(
            NoteLevel.INFO,
            f"{self._who(stream)}: {stream.stats.recorded:,} lines recorded, its budget"
            f" ({limits.timeline_lines:,} lines or {limits.timeline_chars:,} characters);"
            f" from here {kept}",
        )

    def _note_counts(self, stream: _Stream) -> None:
        stats = stream.stats
        if not stats.dropped and not stats.cut:
            return
        parts = [f"{stats.lines:,} lines ({_size(stats.bytes)}) read"]
        recorded = f"{stats.recorded:,} on the timeline"
        if stats.kept_by_pattern:
            recorded += f" ({stats.kept_by_pattern:,} of them past the budget, matching a pattern)"
        parts.append(recorded)
        if stats.dropped:
            parts.append(f"{stats.dropped:,} not recorded")
        if stats.cut:
            parts.append(
                f"{stats.cut:,} lines longer than {self.limits.line_chars:,} characters cut"
                f" ({stats.cut_chars:,} characters discarded)"
            )
        self._note(NoteLevel.WARNING, f"{self._who(stream)}: " + "; ".join(parts))

    def _who(self, stream: _Stream) -> str:
        return f"output of instance {self.instance} ({stream.name})"


def _size(count: int) -> str:
    """``65536`` → ``64 KiB``; ``209715200`` → ``200 MiB``; ``1536`` → ``1.5 KiB``."""
    value, unit = float(count), "bytes"
    for bigger in ("KiB", "MiB", "GiB", "TiB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{value:.0f} {unit}" if value.is_integer() else f"{value:.1f} {unit}"

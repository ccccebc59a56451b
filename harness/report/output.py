"""The system's output as a failed trial shows it: stderr first, repeats folded, the lines
nearest the failure kept.

A uvicorn trial writes sixty access-log lines for every traceback; a plain tail shows the
access log and loses the traceback. So the lines are taken from the trial's ``LogLine``
events (each knows its stream and time), lines that differ only in their numbers (ports,
times, ids) are folded into one with a count, stderr comes before stdout, and of each
stream the lines nearest the moment the trial went wrong are kept, in time order. A trial
without log events (a journal from before them, or one that never started) falls back to
its recorded ``output_tail`` (as do tail lines the timeline's cap left out of the events).
Every reporter that shows output reads it from here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from harness.observe.events import LogLine, NotReady
from harness.report.escape import without_ansi
from harness.results.model import TrialResult
from harness.spec.verdict import Verdict

_NUMBERS = re.compile(r"\d+(?:\.\d+)?")
STREAMS = ("stderr", "stdout")
"""The order streams are shown in: what went wrong is usually on stderr."""


@dataclass(frozen=True)
class OutputLine:
    """One shown line, standing for ``count`` lines alike (the first of them shown)."""

    text: str
    count: int = 1
    t: float | None = None
    last_t: float | None = None
    """The time of the last line it stands for (``t`` of the first)."""


@dataclass(frozen=True)
class OutputBlock:
    """The shown lines of one stream (``output``: streams not told apart)."""

    stream: str
    lines: list[OutputLine]
    total: int
    """Lines the stream had in all, before folding and choosing."""

    @property
    def shown(self) -> int:
        """Lines this block stands for (folded ones included)."""
        return sum(line.count for line in self.lines)


def _shape(text: str) -> str:
    return _NUMBERS.sub("#", text.strip())


def fold(lines: Sequence[tuple[str, float | None]]) -> list[OutputLine]:
    """Consecutive lines that differ only in their numbers, as one line with a count."""
    folded: list[OutputLine] = []
    shape = None
    for text, t in lines:
        current = _shape(text)
        if folded and current == shape:
            last = folded[-1]
            folded[-1] = OutputLine(last.text, last.count + 1, last.t, t)
        else:
            folded.append(OutputLine(text, 1, t, t))
            shape = current
    return folded


def focus_time(trial: TrialResult) -> float | None:
    """When the trial went wrong: its first failed invariant's first evidence, else when it
    was found not ready; ``None`` (the end) when neither says."""
    times = [t for inv in trial.invariants if inv.verdict is not Verdict.PASS for t in inv.evidence]
    if times:
        return min(times)
    not_ready = [e.t for e in trial.events if isinstance(e, NotReady)]
    return not_ready[0] if not_ready else None


def _nearest(lines: list[OutputLine], focus: float | None, limit: int) -> list[OutputLine]:
    """At most ``limit`` lines, the nearest ``focus`` (the last ones when no time), in order."""
    if len(lines) <= limit:
        return lines
    if focus is None or any(line.t is None for line in lines):
        return lines[-limit:]

    def distance(i: int) -> float:
        line = lines[i]
        first, last = line.t or 0.0, line.last_t or line.t or 0.0
        return 0.0 if first <= focus <= last else min(abs(first - focus), abs(last - focus))

    # ties go to the later line: what led up to the failure and just after it
    chosen = sorted(range(len(lines)), key=lambda i: (distance(i), -i))[:limit]
    return [lines[i] for i in sorted(chosen)]


def _budgets(sizes: dict[str, int], limit: int) -> dict[str, int]:
    """Lines per stream: stderr first, but stdout keeps a third when both have more."""
    if sum(sizes.values()) <= limit:
        return dict(sizes)
    budgets = dict.fromkeys(sizes, 0)
    streams = [s for s in sizes if sizes[s]]
    if len(streams) == 1:
        budgets[streams[0]] = limit
        return budgets
    first, *rest = streams
    reserve = max(1, limit // 3)
    budgets[first] = min(sizes[first], limit - min(reserve, sum(sizes[s] for s in rest)))
    left = limit - budgets[first]
    for stream in rest:
        budgets[stream] = min(sizes[stream], left)
        left -= budgets[stream]
    return budgets


def output_excerpt(trial: TrialResult, limit: int = 12) -> list[OutputBlock]:
    """The system's output worth showing for ``trial``: at most ``limit`` lines after
    folding, stderr's block first. Colour codes are removed; nothing else is escaped."""
    logs = [e for e in trial.events if isinstance(e, LogLine)]
    raw: dict[str, list[tuple[str, float | None]]] = {}
    if logs:
        order = {s: i for i, s in enumerate(STREAMS)}
        for stream in sorted({e.stream for e in logs}, key=lambda s: (order.get(s, 9), s)):
            raw[stream] = [(without_ansi(e.line), e.t) for e in logs if e.stream == stream]
    logged = {without_ansi(e.line) for e in logs}
    missing = [line for line in trial.output_tail if without_ansi(line) not in logged]
    if missing:  # no log events, or the timeline's cap dropped the last lines
        raw["output"] = [(without_ansi(line), None) for line in missing]
    folded = {stream: fold(lines) for stream, lines in raw.items()}
    budgets = _budgets({s: len(lines) for s, lines in folded.items()}, limit)
    focus = focus_time(trial)
    return [
        OutputBlock(stream, _nearest(lines, focus, budgets[stream]), len(raw[stream]))
        for stream, lines in folded.items()
        if budgets[stream]
    ]


def line_text(line: OutputLine) -> str:
    """The line as shown: ``GET / 200 (x58 alike)`` for a folded one."""
    return line.text if line.count == 1 else f"{line.text}  (x{line.count} alike)"


def block_title(block: OutputBlock) -> str:
    """``stderr: 3 of 60 lines`` (``stderr: 3 lines`` when all are shown)."""
    if block.shown >= block.total:
        return f"{block.stream}: {block.total} line{'s' if block.total != 1 else ''}"
    return f"{block.stream}: {block.shown} of {block.total} lines, the nearest the failure"

"""Inline SVG drawings of one trial: the shared time axis and fault marks, workload latency,
recovery spread (the process lanes are ``timeline``).

Plain strings, no plotting library, no script: the HTML report must open anywhere, offline,
years later. Every drawing of a trial shares one time axis so they line up on the page.
Every piece of recorded text is escaped; points are capped so a long run stays a sane size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from harness.observe.events import (
    Event,
    FaultAction,
    FaultPhase,
    Request,
)
from harness.report import escape
from harness.report.stats import percentile

WIDTH = 1080
GUTTER = 170
RIGHT = 24
LANE = 20
MAX_LANES = 40
MAX_POINTS = 2000


def _e(text: object) -> str:
    return escape.html(text)


@dataclass(frozen=True)
class Axis:
    """Trial time → x pixels, shared by every drawing of one trial."""

    end: float

    def x(self, t: float) -> float:
        span = self.end if self.end > 0 else 1.0
        return GUTTER + (WIDTH - GUTTER - RIGHT) * max(0.0, min(t, span)) / span


def nice_step(span: float, target: int = 10) -> float:
    """A 1-2-5 step giving about ``target`` ticks over ``span``."""
    if span <= 0:
        return 1.0
    raw = span / target
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def _ticks(span: float, target: int = 10) -> list[float]:
    step = nice_step(span, target)
    return [i * step for i in range(int(span / step + 1e-9) + 1)]


def _fmt_tick(value: float) -> str:
    return f"{value:g}"


def time_axis(axis: Axis, y: float, top: float) -> str:
    """Ticks in seconds along ``y``, with faint grid lines up to ``top``."""
    parts = [f'<line x1="{GUTTER}" y1="{y}" x2="{WIDTH - RIGHT}" y2="{y}" class="axis"/>']
    for t in _ticks(axis.end):
        x = axis.x(t)
        parts.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{y}" class="grid"/>')
        parts.append(
            f'<text x="{x:.1f}" y="{y + 14}" class="tick" text-anchor="middle">'
            f"{_fmt_tick(t)} s</text>"
        )
    return "".join(parts)


# --------------------------------------------------------------------------- faults


@dataclass(frozen=True)
class FaultWindow:
    start: float
    end: float
    label: str
    kind: str
    pids: tuple[int, ...]


def fault_marks(events: Sequence[Event], end: float) -> tuple[list[FaultWindow], list[FaultAction]]:
    """Faults with a duration (start → end) and instantaneous ones (a kill)."""
    open_: dict[int, FaultAction] = {}
    windows: list[FaultWindow] = []
    instants: list[FaultAction] = []
    for e in events:
        if not isinstance(e, FaultAction):
            continue
        label = f"{e.kind} {e.role or ''}".strip()
        if e.phase is FaultPhase.START:
            open_[e.fault] = e
        elif e.phase is FaultPhase.END and e.fault in open_:
            s = open_.pop(e.fault)
            windows.append(FaultWindow(s.t, e.t, label, e.kind, tuple(s.pids)))
        elif e.phase is FaultPhase.INSTANT:
            instants.append(e)
    for s in open_.values():
        windows.append(
            FaultWindow(s.t, end, f"{s.kind} {s.role or ''}".strip(), s.kind, tuple(s.pids))
        )
    return windows, instants


def shade(axis: Axis, windows: Sequence[FaultWindow], top: float, bottom: float) -> str:
    parts = []
    for w in windows:
        x0, x1 = axis.x(w.start), axis.x(w.end)
        parts.append(
            f'<rect x="{x0:.1f}" y="{top}" width="{max(x1 - x0, 1.5):.1f}" '
            f'height="{bottom - top}" class="fault-window"><title>{_e(w.label)} '
            f"t={w.start:.3f}-{w.end:.3f}s</title></rect>"
        )
    return "".join(parts)


def instant_lines(axis: Axis, instants: Sequence[FaultAction], top: float, bottom: float) -> str:
    parts = []
    for e in instants:
        x = axis.x(e.t)
        parts.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" class="kill-line"/>'
        )
    return "".join(parts)


def cross(x: float, y: float, size: float = 5.0, title: str = "") -> str:
    tip = f"<title>{_e(title)}</title>" if title else ""
    return (
        f'<g class="cross"><path d="M{x - size:.1f},{y - size:.1f}L{x + size:.1f},'
        f'{y + size:.1f}M{x - size:.1f},{y + size:.1f}L{x + size:.1f},{y - size:.1f}"/>'
        f"{tip}</g>"
    )


# --------------------------------------------------------------------------- latency


def sample_requests(requests: Sequence[Request], limit: int = MAX_POINTS) -> list[Request]:
    """At most ``limit`` requests: every error first (they matter), then evenly spaced oks."""
    errors = [r for r in requests if not r.ok][:limit]
    oks = [r for r in requests if r.ok]
    room = limit - len(errors)
    if len(oks) > room:
        stride = len(oks) / max(room, 1)
        oks = [oks[int(i * stride)] for i in range(room)]
    return sorted(errors + oks, key=lambda r: r.t)


def latency_svg(events: Sequence[Event], axis: Axis) -> str:
    """Workload latency over time (ok blue, errors red), fault windows shaded."""
    requests = [e for e in events if isinstance(e, Request)]
    if not requests:
        return ""
    points = sample_requests(requests)
    peak_ms = max(r.latency_s for r in points) * 1000 or 1.0
    top, plot_h = 14.0, 110.0
    bottom = top + plot_h
    step = nice_step(peak_ms, 5)
    y_max = step * math.ceil(peak_ms / step)

    def y(ms_value: float) -> float:
        return bottom - plot_h * min(ms_value, y_max) / y_max

    windows, instants = fault_marks(events, axis.end)
    parts = [shade(axis, windows, top, bottom), instant_lines(axis, instants, top, bottom)]
    for i in range(int(y_max / step) + 1):
        value = i * step
        parts.append(
            f'<line x1="{GUTTER}" y1="{y(value):.1f}" x2="{WIDTH - RIGHT}" '
            f'y2="{y(value):.1f}" class="grid"/>'
            f'<text x="{GUTTER - 8}" y="{y(value) + 4:.1f}" class="tick" '
            f'text-anchor="end">{_fmt_tick(value)} ms</text>'
        )
    for r in points:
        if r.ok:
            parts.append(
                f'<circle cx="{axis.x(r.t):.1f}" cy="{y(r.latency_s * 1000):.1f}" '
                f'r="2" class="pt-ok"/>'
            )
    for r in points:
        if not r.ok:
            parts.append(
                cross(
                    axis.x(r.t),
                    y(r.latency_s * 1000),
                    2.5,
                    f"t={r.t:.3f}s {r.status or ''} {r.error or ''}",
                )
            )
    failed = sum(not r.ok for r in requests)
    title = f"{len(requests)} requests, {failed} failed" + (
        f" (showing {len(points)})" if len(points) < len(requests) else ""
    )
    parts.append(
        f'<text x="{WIDTH - RIGHT}" y="{top - 2}" class="tick" text-anchor="end">{_e(title)}</text>'
    )
    parts.append(time_axis(axis, bottom, top))
    height = bottom + 24
    return (
        f'<svg class="latency" viewBox="0 0 {WIDTH} {height:.0f}" width="{WIDTH}" '
        f'height="{height:.0f}" role="img" aria-label="request latency">{"".join(parts)}</svg>'
    )


# --------------------------------------------------------------------------- distribution


def distribution_svg(values: Sequence[tuple[float, bool]], width: int = 560) -> str:
    """Recovery times as a box plot with every value as a dot (red: a failed trial's)."""
    if not values:
        return ""
    seconds = [v for v, _ in values]
    left, right, height = 20.0, 20.0, 92
    peak = max(seconds) * 1000
    step = nice_step(peak or 1.0, 6)
    top_ms = step * math.ceil((peak or 1.0) / step)

    def x(ms_value: float) -> float:
        return left + (width - left - right) * ms_value / top_ms

    q1, q2, q3 = (percentile(seconds, q) * 1000 for q in (25, 50, 75))
    lo, hi = min(seconds) * 1000, peak
    mid = 34
    parts = [
        f'<line x1="{x(lo):.1f}" y1="{mid}" x2="{x(hi):.1f}" y2="{mid}" class="whisker"/>',
        f'<rect x="{x(q1):.1f}" y="{mid - 14}" width="{max(x(q3) - x(q1), 1.5):.1f}" '
        f'height="28" class="box"/>',
        f'<line x1="{x(q2):.1f}" y1="{mid - 14}" x2="{x(q2):.1f}" y2="{mid + 14}" class="median"/>',
    ]
    for i, (v, ok) in enumerate(values):
        jitter = ((i * 7919) % 17 - 8) * 1.2
        parts.append(
            f'<circle cx="{x(v * 1000):.1f}" cy="{mid + jitter:.1f}" r="3.5" '
            f'class="{"dot-ok" if ok else "dot-fail"}"><title>{v * 1000:.0f} ms'
            f"</title></circle>"
        )
    axis_y = 62
    parts.append(
        f'<line x1="{left}" y1="{axis_y}" x2="{width - right}" y2="{axis_y}" class="axis"/>'
    )
    for i in range(int(top_ms / step + 1e-9) + 1):
        value = i * step
        parts.append(
            f'<line x1="{x(value):.1f}" y1="{axis_y}" x2="{x(value):.1f}" '
            f'y2="{axis_y + 4}" class="axis"/><text x="{x(value):.1f}" '
            f'y="{axis_y + 16}" class="tick" text-anchor="middle">'
            f"{_fmt_tick(value)} ms</text>"
        )
    return (
        f'<svg class="distribution" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="recovery times">{"".join(parts)}</svg>'
    )

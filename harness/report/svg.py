"""Inline SVG drawings of one trial: process lanes, workload latency, recovery spread.

Plain strings, no plotting library, no script: the HTML report must open anywhere, offline,
years later. Every drawing of a trial shares one time axis so they line up on the page.
Every piece of recorded text is escaped; points are capped so a long run stays a sane size.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from harness.observe.events import (
    Event,
    FaultAction,
    FaultPhase,
    NotReady,
    Phase,
    ProbeResult,
    ProcessExit,
    ProcessStart,
    Ready,
    Request,
    Teardown,
    TeardownStep,
)
from harness.report import escape
from harness.report.colours import OTHER_ROLE, role_colours
from harness.report.stats import percentile
from harness.spec.effects import Effect

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


def _shade(axis: Axis, windows: Sequence[FaultWindow], top: float, bottom: float) -> str:
    parts = []
    for w in windows:
        x0, x1 = axis.x(w.start), axis.x(w.end)
        parts.append(
            f'<rect x="{x0:.1f}" y="{top}" width="{max(x1 - x0, 1.5):.1f}" '
            f'height="{bottom - top}" class="fault-window"><title>{_e(w.label)} '
            f"t={w.start:.3f}-{w.end:.3f}s</title></rect>"
        )
    return "".join(parts)


def _instant_lines(axis: Axis, instants: Sequence[FaultAction], top: float, bottom: float) -> str:
    parts = []
    for e in instants:
        x = axis.x(e.t)
        parts.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" class="kill-line"/>'
        )
    return "".join(parts)


def _cross(x: float, y: float, size: float = 5.0, title: str = "") -> str:
    tip = f"<title>{_e(title)}</title>" if title else ""
    return (
        f'<g class="cross"><path d="M{x - size:.1f},{y - size:.1f}L{x + size:.1f},'
        f'{y + size:.1f}M{x - size:.1f},{y + size:.1f}L{x + size:.1f},{y - size:.1f}"/>'
        f"{tip}</g>"
    )


# --------------------------------------------------------------------------- timeline


@dataclass
class _Lane:
    pid: int
    role: str
    instance: int
    start: float
    end: float | None = None
    signal: str | None = None
    code: int | None = None


def _lanes(events: Sequence[Event]) -> list[_Lane]:
    lanes: dict[int, _Lane] = {}
    for e in events:
        if isinstance(e, ProcessStart) and e.pid not in lanes:
            lanes[e.pid] = _Lane(e.pid, e.role or OTHER_ROLE, e.instance, e.t)
        elif isinstance(e, ProcessExit) and e.pid in lanes:
            lane = lanes[e.pid]
            lane.end, lane.signal, lane.code = e.t, e.signal, e.code
    roles: list[str] = []
    for lane in lanes.values():
        if lane.role not in roles:
            roles.append(lane.role)
    return sorted(lanes.values(), key=lambda ln: (ln.instance, roles.index(ln.role), ln.start))


@dataclass(frozen=True)
class SignalSent:
    """A signal the harness sent to one process (a fault, a thaw, a teardown step)."""

    t: float
    pid: int
    signal: str
    why: str


_EFFECT_SIGNAL = {Effect.STOPS: "SIGSTOP", Effect.RESUMES: "SIGCONT"}


def signals_sent(events: Sequence[Event]) -> list[SignalSent]:
    """Every signal the harness sent, per process, as the timeline recorded it."""
    sent: list[SignalSent] = []
    for e in events:
        if isinstance(e, FaultAction) and e.phase is not FaultPhase.MISS:
            name = e.detail.get("signal") or _EFFECT_SIGNAL.get(e.effect)
            if isinstance(name, str):
                thaw = " (thaw)" if e.phase is FaultPhase.END else ""
                why = f"fault #{e.fault} {e.kind}{thaw}"
                sent += [SignalSent(e.t, pid, name, why) for pid in e.pids]
        elif isinstance(e, Teardown) and e.pid is not None:
            name = e.detail.get("signal", "SIGKILL" if e.action is not TeardownStep.STOP else None)
            if isinstance(name, str):
                sent.append(SignalSent(e.t, e.pid, name, f"teardown {e.action}"))
    return sent


LEGEND = {
    "fault": "fault window",
    "instant": "instant fault",
    "frozen": "frozen (SIGSTOP)",
    "signal": "signal sent by the harness",
    "exit-signal": "ended by a signal",
    "exit-ok": "exit 0",
    "exit-code": "exit with an error code",
    "exit-parent": "exit reaped by its parent (status unknown)",
    "ready": "ready",
    "not-ready": "not ready",
    "probe-ok": "probe ok",
    "probe-fail": "probe failed",
    "request-ok": "request ok",
    "request-error": "request failed",
    "failed-trial": "from a failed trial",
}
"""Every legend entry a chart can need, by key; a chart's legend lists only those it drew."""


@dataclass(frozen=True)
class Chart:
    """An SVG drawing and what its legend must explain: the roles drawn (name → colour)
    and the ``LEGEND`` keys of the other marks drawn, in the order first drawn."""

    svg: str
    roles: dict[str, str]
    marks: tuple[str, ...]


PHASE_LABEL = {"ready": "waiting for ready"}
"""Phase names as the phase lane shows them: the ``ready`` phase is the wait for readiness
(it lasts until the system is ready, or to teardown in a trial that never was)."""


def _signal_mark(x: float, y: float, sent: SignalSent) -> str:
    return (
        f'<path d="M{x - 4:.1f},{y:.1f}h8l-4,6z" class="signal"><title>'
        f"{_e(sent.signal)} sent by the harness to pid {sent.pid} ({_e(sent.why)}) "
        f"t={sent.t:.3f}s</title></path>"
    )


def _exit_mark(lane: _Lane, x: float, y: float) -> tuple[str, str]:
    """The mark at the end of an ended lane, and its legend key."""
    assert lane.end is not None
    at = f"t={lane.end:.3f}s"
    if lane.signal is not None:
        return _cross(x, y, title=f"pid {lane.pid} ended by {lane.signal} {at}"), "exit-signal"
    if lane.code is None:
        return (
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" class="exit-parent"><title>pid {lane.pid}'
            f" exited {at}; reaped by its parent, so its status is unknown</title></circle>"
        ), "exit-parent"
    if lane.code == 0:
        return (
            f'<rect x="{x - 1.5:.1f}" y="{y - 6:.1f}" width="3" height="12" class="exit-ok">'
            f"<title>pid {lane.pid} exit 0 {at}</title></rect>"
        ), "exit-ok"
    return (
        f'<rect x="{x - 1.5:.1f}" y="{y - 6:.1f}" width="3" height="12" class="exit-code">'
        f"<title>pid {lane.pid} exit {lane.code} {at}</title></rect>"
        f'<text x="{x + 5:.1f}" y="{y + 4:.1f}" class="exit-label">exit {_e(lane.code)}</text>'
    ), "exit-code"


def draw_timeline(
    events: Sequence[Event], axis: Axis, colours: Mapping[str, str] | None = None
) -> Chart:
    """Lanes of processes by role (``colours``: a colour per role, the run's), faults across
    them, a mark for every signal the harness sent and every exit, readiness, probes and
    the phases of the trial."""
    probes = sorted({e.name for e in events if isinstance(e, ProbeResult)})
    lanes = _lanes(events)
    hidden = max(0, len(lanes) - MAX_LANES)
    lanes = lanes[:MAX_LANES]
    roles = list(dict.fromkeys(ln.role for ln in lanes))
    colour = dict(colours or role_colours(roles))
    for role in roles:  # a role the given colours lack still gets one
        colour.setdefault(role, role_colours([role])[role])
    instances = len({ln.instance for ln in lanes}) > 1
    windows, instants = fault_marks(events, axis.end)
    marks: dict[str, None] = {}
    if windows:
        marks["fault"] = None
    if instants:
        marks["instant"] = None

    y = 24.0  # faults label row at 0..24
    rows: list[str] = []
    rows.append(
        f'<text x="{GUTTER - 8}" y="{y + 12}" class="lane-label" text-anchor="end">readiness</text>'
    )
    for e in events:
        if isinstance(e, Ready | NotReady):
            x = axis.x(e.t)
            cls, label = ("ready", "ready") if isinstance(e, Ready) else ("not-ready", "not ready")
            marks[cls] = None
            rows.append(
                f'<path d="M{x:.1f},{y + 3}l6,6l-6,6l-6,-6z" class="{cls}">'
                f"<title>{label} t={e.t:.3f}s</title></path>"
                f'<text x="{x + 9:.1f}" y="{y + 13}" class="mark-label">{label}</text>'
            )
    y += LANE
    for name in probes:
        rows.append(
            f'<text x="{GUTTER - 8}" y="{y + 12}" class="lane-label" '
            f'text-anchor="end">probe {_e(name)}</text>'
        )
        for e in events:
            if isinstance(e, ProbeResult) and e.name == name:
                x = axis.x(e.t)
                cls = "probe-ok" if e.ok else "probe-fail"
                marks[cls] = None
                rows.append(
                    f'<rect x="{x - 1:.1f}" y="{y + 3}" width="2.5" height="12" class="{cls}"/>'
                )
        y += LANE
    sent: dict[int, list[SignalSent]] = {}
    for signal in signals_sent(events):
        sent.setdefault(signal.pid, []).append(signal)
    lanes_top = y + 4
    y = lanes_top
    for lane in lanes:
        c = colour[lane.role]
        who = f"{lane.role}{f' #{lane.instance}' if instances else ''}"
        rows.append(
            f'<circle cx="12" cy="{y + 10}" r="4" fill="{c}"/>'
            f'<text x="{GUTTER - 8}" y="{y + 14}" class="lane-label" text-anchor="end">'
            f'{_e(who)} <tspan class="pid">{lane.pid}</tspan></text>'
        )
        x0 = axis.x(lane.start)
        x1 = axis.x(lane.end if lane.end is not None else axis.end)
        how = (
            f"exit {lane.signal or lane.code or 'reaped by its parent'}"
            if lane.end is not None
            else "alive at end"
        )
        rows.append(
            f'<rect x="{x0:.1f}" y="{y + 5}" width="{max(x1 - x0, 2):.1f}" height="10" '
            f'rx="2" fill="{c}" class="life" data-role="{_e(lane.role)}"><title>{_e(who)} pid '
            f"{lane.pid}: t={lane.start:.3f}s → {_e(how)}</title></rect>"
        )
        for w in windows:
            if lane.pid in w.pids:
                fx0, fx1 = axis.x(w.start), axis.x(w.end)
                marks["frozen"] = None
                rows.append(
                    f'<rect x="{fx0:.1f}" y="{y + 3}" width="{max(fx1 - fx0, 2):.1f}" '
                    f'height="14" class="frozen"><title>{_e(w.label)} pid {lane.pid} '
                    f"t={w.start:.3f}-{w.end:.3f}s</title></rect>"
                )
        for signal in sent.get(lane.pid, []):
            marks["signal"] = None
            rows.append(_signal_mark(axis.x(signal.t), y - 1, signal))
        if lane.end is not None:
            mark, key = _exit_mark(lane, x1, y + 10)
            marks[key] = None
            rows.append(mark)
        y += LANE
    if hidden:
        rows.append(
            f'<text x="{GUTTER - 8}" y="{y + 12}" class="lane-label" '
            f'text-anchor="end">+{hidden} more processes</text>'
        )
        y += LANE
    bottom = y + 2
    phases = [e for e in events if isinstance(e, Phase)]
    strip = [
        f'<text x="{GUTTER - 8}" y="{bottom + 13}" class="lane-label" '
        f'text-anchor="end">phase</text>'
    ]
    for i, p in enumerate(phases):
        nxt = phases[i + 1].t if i + 1 < len(phases) else axis.end
        px0, px1 = axis.x(p.t), axis.x(nxt)
        label = PHASE_LABEL.get(p.name, p.name)
        strip.append(
            f'<rect x="{px0:.1f}" y="{bottom + 2}" width="{max(px1 - px0, 0.5):.1f}" '
            f'height="16" class="phase phase-{i % 2}"><title>{_e(label)} '
            f"t={p.t:.3f}s</title></rect>"
        )
        if px1 - px0 > 6 * len(label) + 6:
            strip.append(
                f'<text x="{(px0 + px1) / 2:.1f}" y="{bottom + 14}" class="phase-label" '
                f'text-anchor="middle">{_e(label)}</text>'
            )
    axis_y = bottom + 24
    labels = []
    for w in windows:
        labels.append(
            f'<text x="{axis.x(w.start) + 3:.1f}" y="14" class="fault-label">{_e(w.label)}</text>'
        )
    for e in instants:
        label = f"{e.kind} {e.role or ''}".strip()
        labels.append(
            f'<text x="{axis.x(e.t) + 4:.1f}" y="14" class="fault-label kill">{_e(label)}</text>'
        )
    height = axis_y + 22
    body = (
        time_axis(axis, axis_y, 20)
        + _shade(axis, windows, 20, bottom)
        + _instant_lines(axis, instants, 20, bottom)
        + "".join(rows)
        + "".join(strip)
        + "".join(labels)
    )
    svg = (
        f'<svg class="timeline" viewBox="0 0 {WIDTH} {height:.0f}" width="{WIDTH}" '
        f'height="{height:.0f}" role="img" aria-label="process timeline">{body}</svg>'
    )
    return Chart(svg, {role: colour[role] for role in roles}, tuple(marks))


def timeline_svg(
    events: Sequence[Event], axis: Axis, colours: Mapping[str, str] | None = None
) -> str:
    """``draw_timeline``'s SVG alone."""
    return draw_timeline(events, axis, colours).svg


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
    parts = [_shade(axis, windows, top, bottom), _instant_lines(axis, instants, top, bottom)]
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
                _cross(
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

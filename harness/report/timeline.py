"""The timeline of one trial as inline SVG: a lane per process, a colour per role.

Faults are shaded across the lanes (a freeze hatched on the lanes it stopped), every signal
the harness sent (a fault, a thaw, a teardown step) is a mark on its process, and every
exit is a mark too, whoever reaped it: a cross when a signal ended it, a bar for an exit
code, a ring for a process its own parent reaped (its status is unknown to the harness).
Above the lanes: readiness and probe readings; below: the trial's phases. ``draw_timeline``
returns what it drew, so the legend under it names exactly that.
"""

from __future__ import annotations

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
    Teardown,
    TeardownStep,
)
from harness.report import escape
from harness.report.colours import OTHER_ROLE, role_colours
from harness.report.svg import (
    GUTTER,
    LANE,
    MAX_LANES,
    WIDTH,
    Axis,
    cross,
    fault_marks,
    instant_lines,
    shade,
    time_axis,
)
from harness.spec.effects import Effect


def _e(text: object) -> str:
    return escape.html(text)


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
        return cross(x, y, title=f"pid {lane.pid} ended by {lane.signal} {at}"), "exit-signal"
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
        + shade(axis, windows, 20, bottom)
        + instant_lines(axis, instants, 20, bottom)
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

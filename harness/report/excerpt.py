"""What every reporter shows about a run: per-scenario figures and the events around a failure.

Console, JUnit, Markdown and HTML must agree on "recovery p95" and on which events explain a
failure, so both are computed once here from the ``RunResult``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness.observe.events import Event, LogLine, ProbeResult, Request
from harness.report.stats import percentile
from harness.results.model import ScenarioResult, TrialResult
from harness.spec.verdict import InvariantResult, Verdict

AROUND = 6
"""Events shown around each piece of evidence."""

_VALUE_WIDTH = 60


# --------------------------------------------------------------------------- figures


def metric_values(trials: Sequence[TrialResult], metric: str) -> list[float]:
    """Every value of ``metric`` over ``trials`` (lists are flattened), errors excluded."""
    values: list[float] = []
    for trial in trials:
        if trial.verdict is Verdict.ERROR:
            continue
        raw = trial.metrics.get(metric)
        items = raw if isinstance(raw, list) else [raw]
        values.extend(float(v) for v in items if isinstance(v, int | float))
    return values


@dataclass(frozen=True)
class ScenarioFigures:
    """The numbers of one scenario's summary row."""

    passed: int
    total: int
    recovery_p50: float | None
    recovery_p95: float | None
    recovery_max: float | None
    recoveries: int
    availability: float | None
    """The worst trial's availability (0..1), if any trial measured it."""


def figures(scenario: ScenarioResult) -> ScenarioFigures:
    """Summary numbers for one scenario."""
    recovery = metric_values(scenario.trials, "recovery_s")
    availability = metric_values(scenario.trials, "availability")
    return ScenarioFigures(
        passed=sum(t.verdict is Verdict.PASS for t in scenario.trials),
        total=len(scenario.trials),
        recovery_p50=percentile(recovery, 50) if recovery else None,
        recovery_p95=percentile(recovery, 95) if recovery else None,
        recovery_max=max(recovery) if recovery else None,
        recoveries=len(recovery),
        availability=min(availability) if availability else None,
    )


# --------------------------------------------------------------------------- recovery phases

BREAKDOWN = ("died", "spawned", "listening", "ready", "serving")
"""The steps of one fault's recovery, as ``recovers`` records them (``<step>_s``)."""


def recovery_records(trials: Sequence[TrialResult]) -> list[dict[str, Any]]:
    """Every fault's recovery breakdown (``metrics["recoveries"]``), errors excluded."""
    found: list[dict[str, Any]] = []
    for trial in trials:
        if trial.verdict is Verdict.ERROR:
            continue
        raw = trial.metrics.get("recoveries")
        found += [r for r in raw if isinstance(r, dict)] if isinstance(raw, list) else []
    return found


def judged_phases(trial: TrialResult) -> list[str]:
    """The phases ``recovers`` judged in this trial (its ``until``), in order, once each."""
    return list(dict.fromkeys(str(r.get("until")) for r in recovery_records([trial])))


def _seconds(record: dict[str, Any], step: str) -> float | None:
    value = record.get(f"{step}_s")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class StepFigure:
    """One step of the recovery over every fault of a scenario (seconds after the fault)."""

    step: str
    n: int
    """Faults that reached it."""
    of: int
    """Faults it applied to."""
    p50: float | None
    p95: float | None


def step_figures(trials: Sequence[TrialResult]) -> list[StepFigure]:
    """Per step, how many faults reached it and the p50/p95 of the time it took."""
    records = recovery_records(trials)
    found: list[StepFigure] = []
    for step in BREAKDOWN:
        applies = [r for r in records if step == "died" or step in r.get("phases", [])]
        values = [v for r in applies if (v := _seconds(r, step)) is not None]
        if applies and (values or step != "died"):
            found.append(
                StepFigure(
                    step,
                    len(values),
                    len(applies),
                    percentile(values, 50) if values else None,
                    percentile(values, 95) if values else None,
                )
            )
    return found


def steps_line(figures: Sequence[StepFigure]) -> str:
    """``died 3 · spawned 8 · ready 41 ms (1 of 2 never)``: the p50 of each step."""
    parts = []
    for f in figures:
        text = f"{f.step} {'never' if f.p50 is None else ms(f.p50)}"
        if f.p50 is not None and f.n < f.of:
            text += f" ({f.of - f.n} of {f.of} never)"
        parts.append(text)
    return " · ".join(parts)


def segments(record: dict[str, Any]) -> list[tuple[str, float, float]]:
    """``(step, from_s, to_s)`` of one fault's recovery bar: each step reached, in time
    order, from the previous one (the fault at 0). A thaw is drawn by no step."""
    reached = sorted(
        (
            (v, i, step)
            for i, step in enumerate(BREAKDOWN)
            if (v := _seconds(record, step)) is not None
        ),
    )
    found: list[tuple[str, float, float]] = []
    previous = 0.0
    for value, _, step in reached:
        found.append((step, previous, max(previous, value)))
        previous = max(previous, value)
    return found


def ms(seconds: float | None) -> str:
    """``0.5123`` → ``"512 ms"``; ``None`` → ``"-"``."""
    if seconds is None:
        return "-"
    if seconds >= 10:
        return f"{seconds:.1f} s"
    return f"{seconds * 1000:.0f} ms"


def percent(fraction: float | None) -> str:
    """``0.9981`` → ``"99.81%"``; ``None`` → ``"-"``."""
    return "-" if fraction is None else f"{fraction * 100:.2f}%"


# --------------------------------------------------------------------------- failures


def failed_invariants(trial: TrialResult) -> list[InvariantResult]:
    """The invariants of ``trial`` that did not pass, in the scenario's order."""
    return [i for i in trial.invariants if i.verdict is not Verdict.PASS]


def expected_observed(inv: InvariantResult) -> list[tuple[str, str]]:
    """``("expected", ...)`` and ``("observed", ...)``, each only when the checker said it."""
    pairs = [("expected", inv.expected), ("observed", inv.observed)]
    return [(label, value) for label, value in pairs if value is not None]


def failure_message(trial: TrialResult) -> str:
    """One line saying why the trial did not pass (first failed invariant, else the error)."""
    failed = failed_invariants(trial)
    if failed:
        return f"{failed[0].kind}: {failed[0].detail}"
    return trial.error or f"trial {trial.verdict}"


def _is_traffic(event: Event) -> bool:
    """Requests and probes come by the hundred; they are summarised, not listed."""
    return isinstance(event, Request | ProbeResult)


def events_around(
    events: Sequence[Event], times: Sequence[float], count: int = AROUND
) -> list[Event]:
    """The ``count`` non-traffic events nearest each evidence time, merged, in time order."""
    candidates = [e for e in events if not _is_traffic(e)]
    chosen: dict[int, Event] = {}
    for t in times:
        nearest = sorted(range(len(candidates)), key=lambda i: abs(candidates[i].t - t))
        for i in nearest[:count]:
            chosen[i] = candidates[i]
    return [chosen[i] for i in sorted(chosen, key=lambda i: (chosen[i].t, i))]


def traffic_summary(events: Sequence[Event], start: float, end: float) -> list[str]:
    """``42 of 80 api requests failed between t=2.010 and t=3.580`` per workload/probe."""
    groups: dict[str, list[bool]] = {}
    for e in events:
        if start <= e.t <= end and isinstance(e, Request | ProbeResult):
            groups.setdefault(_traffic_of(e), []).append(e.ok)
    return [
        f"{oks.count(False)} of {len(oks)} {what} failed between t={start:.3f} and t={end:.3f}"
        for what, oks in groups.items()
        if not all(oks)
    ]


def _compact(value: Any) -> str:
    if isinstance(value, list):
        text = " ".join(str(v) for v in value)
    elif isinstance(value, dict):
        text = ",".join(f"{k}={v}" for k, v in value.items())
    elif isinstance(value, float):
        text = f"{value:.4g}"
    else:
        text = str(value)
    text = text.replace("\n", " ")
    return text if len(text) <= _VALUE_WIDTH else text[: _VALUE_WIDTH - 1] + "…"


def format_event(event: Event, *, brief: bool = False) -> str:
    """``t=1.234 process_exit pid=41 role=backend signal=SIGKILL`` (empty fields left out).

    ``brief``: without what rarely explains a failure (a command line, a response body,
    instance 0), a fault's detail spread out, latency in ms: one line of evidence."""
    parts = [f"t={event.t:.3f}", event.type]
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        if f.name == "t" or (isinstance(event, LogLine) and f.name == "line"):
            continue  # a log line's text goes last, as it is
        if value is None or value == [] or value == {} or value == "":
            continue
        if brief and (f.name in _BRIEF_SKIP or (f.name == "instance" and value == 0)):
            continue
        if brief and f.name == "latency_s" and isinstance(value, int | float):
            parts.append(f"latency={value * 1000:.0f}ms")
        elif brief and f.name == "detail" and isinstance(value, dict):
            parts += [f"{k}={_compact(v)}" for k, v in value.items()]
        else:
            parts.append(f"{f.name}={_compact(value)}")
    if isinstance(event, LogLine):
        parts.append(_compact(event.line))
    return " ".join(parts)


_BRIEF_SKIP = frozenset({"effect", "cmdline", "ppid", "recorded", "body", "output_tail", "value"})
"""Fields a one-line piece of evidence leaves out (the journal and the HTML have them)."""


EXACT_S = 0.0015
"""How close an event must be to an evidence time to be that evidence (times are rounded)."""
EVIDENCE_LIMIT = 6
"""Lines of evidence the console shows per failed invariant."""


def _rank(event: Event) -> int:
    """Which events at one instant explain it best: what processes and faults did, then
    what the system wrote, then traffic."""
    return 2 if _is_traffic(event) else 1 if isinstance(event, LogLine) else 0


def evidence_events(events: Sequence[Event], times: Sequence[float]) -> list[Event]:
    """The events that are the evidence: at each evidence time, the events recorded then
    of the best rank (a fault or a process exit before a log line, a log line before
    traffic: the first failed request is evidence when nothing else happened), else the
    nearest non-traffic event. Merged, in time order."""
    candidates = [e for e in events if not _is_traffic(e)]
    chosen: dict[int, Event] = {}
    index = {id(e): i for i, e in enumerate(events)}
    for t in times:
        at = [e for e in events if abs(e.t - t) <= EXACT_S]
        best = min((_rank(e) for e in at), default=2)
        picked = [e for e in at if _rank(e) == best][: 1 if best == 2 else None]
        if not picked and candidates:
            picked = [min(candidates, key=lambda e: abs(e.t - t))]
        for e in picked:
            chosen[index[id(e)]] = e
    return [chosen[i] for i in sorted(chosen, key=lambda i: (chosen[i].t, i))]


def _traffic_of(event: Request | ProbeResult) -> str:
    """Whose traffic it is: ``api requests``, ``probe status readings``."""
    if isinstance(event, Request):
        return f"{event.workload} requests"
    return f"probe {event.name} readings"


def _traffic_key(event: Event) -> str | None:
    """What alike traffic shares (``api requests failed``), ``None`` for other events."""
    if not isinstance(event, Request | ProbeResult):
        return None
    return f"{_traffic_of(event)} {'ok' if event.ok else 'failed'}"


def evidence_summary(
    trial: TrialResult, invariant: InvariantResult, limit: int = EVIDENCE_LIMIT
) -> list[str]:
    """The evidence of one failed invariant in at most ``limit`` lines (``evidence_events``;
    a run of alike requests or probe readings as one line), then how many were left out."""
    groups: list[list[Event]] = []
    for e in evidence_events(trial.events, invariant.evidence):
        key = _traffic_key(e)
        if groups and key is not None and key == _traffic_key(groups[-1][-1]):
            groups[-1].append(e)
        else:
            groups.append([e])
    lines = [
        format_event(g[0], brief=True)
        if len(g) == 1
        else f"t={g[0].t:.3f}..{g[-1].t:.3f} {len(g)} {_traffic_key(g[0])}"
        for g in groups
    ]
    if len(lines) > limit:
        return [*lines[:limit], f"… and {len(lines) - limit} more"]
    return lines


def evidence_lines(trial: TrialResult, invariant: InvariantResult) -> list[str]:
    """The formatted events around an invariant's evidence, then the failed traffic in
    that span (empty if the invariant gave no evidence)."""
    around = events_around(trial.events, invariant.evidence)
    if not around:
        return []
    lines = [format_event(e) for e in around]
    return lines + traffic_summary(trial.events, around[0].t, around[-1].t)

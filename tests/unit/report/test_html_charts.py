"""What the HTML charts promise a reader: a role keeps its colour across trials, every
signal and exit has a mark, a legend explains exactly what its chart drew."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET

from harness.observe.events import (
    FaultAction,
    FaultPhase,
    Phase,
    ProcessExit,
    ProcessStart,
    Teardown,
    TeardownStep,
)
from harness.report.colours import MEANINGS, OTHER, ROLE_PALETTE, distance, role_colours
from harness.report.html import to_html
from harness.report.svg import Axis
from harness.report.timeline import draw_timeline, signals_sent
from harness.results.model import RunResult, ScenarioResult, TrialResult
from harness.spec.effects import Effect
from harness.spec.verdict import Verdict

from .fixtures import backend_kill_trial, not_ready_trial, realistic_run


def _lane_colours(document: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for fill, role in re.findall(
        r'fill="(#[0-9a-f]{6})" class="life" data-role="([^"]+)"', document
    ):
        found.setdefault(role, set()).add(fill)
    return found


def _trial_with_roles(index: int, roles: list[str]) -> TrialResult:
    events = [
        ProcessStart(t=0.1 * i, pid=100 * index + i, ppid=1, instance=0, role=role, cmdline=["x"])
        for i, role in enumerate(roles)
    ]
    return TrialResult(index=index, verdict=Verdict.PASS, duration_s=1.0, events=list(events))


def test_a_role_has_one_colour_in_every_trial_whatever_order_its_processes_start() -> None:
    run = RunResult(
        started="now",
        scenarios=[
            ScenarioResult(
                "a",
                "a.yaml",
                trials=[
                    _trial_with_roles(0, ["supervisor", "worker"]),
                    _trial_with_roles(1, ["worker", "backend", "supervisor"]),
                ],
            ),
            ScenarioResult("b", "b.yaml", trials=[_trial_with_roles(0, ["backend", "worker"])]),
        ],
    )
    found = _lane_colours(to_html(run))
    assert set(found) == {"supervisor", "worker", "backend"}
    assert all(len(fills) == 1 for fills in found.values()), found
    assert len({next(iter(f)) for f in found.values()}) == 3, "one colour per role"


def test_the_legend_names_each_role_with_its_colour() -> None:
    document = to_html(realistic_run())
    colours = role_colours(["supervisor", "backend", "worker"])
    for role in ("supervisor", "backend", "worker"):
        assert f'<span class="role"><i style="background:{colours[role]}"></i>{role}</span>' in (
            document
        )
    assert "colour: role" not in document


def test_role_colours_keep_clear_of_every_colour_with_another_meaning() -> None:
    for colour, (meaning, other) in itertools.product((*ROLE_PALETTE, OTHER), MEANINGS.items()):
        assert distance(colour, other) >= 70, (colour, meaning)
    assert len(set(ROLE_PALETTE)) == len(ROLE_PALETTE)
    assert OTHER not in ROLE_PALETTE


def test_every_signal_the_harness_sent_and_every_exit_has_a_mark() -> None:
    events = [
        ProcessStart(t=0.0, pid=1, ppid=0, instance=0, role="supervisor", cmdline=["s"], root=True),
        ProcessStart(t=0.1, pid=2, ppid=1, instance=0, role="worker", cmdline=["w"]),
        ProcessStart(t=0.1, pid=3, ppid=1, instance=0, role="worker", cmdline=["w"]),
        FaultAction(
            t=1.0,
            fault=0,
            kind="kill",
            phase=FaultPhase.INSTANT,
            effect=Effect.ENDS,
            role="worker",
            pids=[2],
            detail={"signal": "SIGKILL"},
        ),
        # reaped by its parent (the supervisor): no code, no signal
        ProcessExit(t=1.01, pid=2, instance=0, role="worker"),
        Teardown(
            t=3.0, action=TeardownStep.STOP, pid=1, role="supervisor", detail={"signal": "SIGTERM"}
        ),
        ProcessExit(t=3.1, pid=3, instance=0, role="worker", code=0),
        ProcessExit(t=3.2, pid=1, instance=0, role="supervisor", signal="SIGTERM"),
    ]
    assert [(s.pid, s.signal) for s in signals_sent(events)] == [(2, "SIGKILL"), (1, "SIGTERM")]
    chart = draw_timeline(events, Axis(end=4.0))
    root = ET.fromstring(chart.svg)
    assert len(root.findall(".//{*}path[@class='signal']")) == 2
    assert len(root.findall(".//{*}circle[@class='exit-parent']")) == 1
    assert len(root.findall(".//{*}rect[@class='exit-ok']")) == 1
    assert len(root.findall(".//{*}g[@class='cross']")) == 1
    assert set(chart.marks) >= {"signal", "exit-parent", "exit-ok", "exit-signal", "instant"}
    assert "probe-ok" not in chart.marks
    assert "frozen" not in chart.marks
    assert chart.roles == {
        "supervisor": role_colours(["supervisor", "worker"])["supervisor"],
        "worker": role_colours(["supervisor", "worker"])["worker"],
    }


def test_a_freeze_marks_its_stop_and_its_thaw() -> None:
    trial = backend_kill_trial(0, 0.5)
    sent = [(s.pid, s.signal, s.why) for s in signals_sent(trial.events)]
    assert (1003, "SIGSTOP", "fault #1 freeze") in sent
    assert (1003, "SIGCONT", "fault #1 freeze (thaw)") in sent
    assert (1001, "SIGKILL", "fault #0 kill") in sent


def test_legends_list_only_what_the_chart_drew() -> None:
    run = realistic_run()
    passing = ScenarioResult("all-pass", "p.yaml", trials=[backend_kill_trial(0, 0.4)])
    run.scenarios = [passing]
    document = to_html(run)
    assert "from a failed trial" not in document
    run.scenarios = [ScenarioResult("never-ready", "n.yaml", trials=[not_ready_trial(0)])]
    document = to_html(run)
    legend = re.findall(r'<div class="legend">(.*?)</div>', document)
    assert legend, document
    text = re.sub(r"<[^>]+>", " ", legend[0])
    for absent in ("probe ok", "fault window", "frozen", "signal sent"):
        assert absent not in text
    assert "exit with an error code" in text
    assert "supervisor" in text


def test_the_phase_lane_says_waiting_for_ready_until_ready() -> None:
    trial = not_ready_trial(0)
    events = [*trial.events, Phase(t=0.05, name="ready")]
    events.sort(key=lambda e: e.t)
    svg = draw_timeline(events, Axis(end=2.0)).svg
    labels = "".join(ET.fromstring(svg).itertext())
    assert "waiting for ready" in labels
    assert re.search(r">ready<", svg) is None, "no phase is labelled plain 'ready'"


def test_charts_scroll_instead_of_shrinking() -> None:
    document = to_html(realistic_run())
    assert document.count('<div class="chart"><svg class="timeline"') == 5
    assert ".chart > svg { max-width: none; }" in document
    sizes = [float(x) for x in re.findall(r"font-size: ?([\d.]+)px", document)]
    assert min(sizes) >= 10

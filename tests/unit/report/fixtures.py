"""Realistic run results for reporter tests, built like the runner builds them.

A backend-kill trial: a supervisor with a backend and a worker, HTTP traffic through the
kill (errors while the backend is down), a freeze of the worker, probes, teardown. Plus a
trial whose recovery was too slow (failed invariant), a not-ready trial, a harness error
and a skipped scenario.
"""

from __future__ import annotations

import random

from harness.observe.events import (
    Event,
    FaultAction,
    FaultPhase,
    HarnessNote,
    LogLine,
    NoteLevel,
    NotReady,
    Phase,
    PortListen,
    ProbeResult,
    ProcessExit,
    ProcessStart,
    Ready,
    Request,
    SystemStart,
    Teardown,
    TeardownStep,
)
from harness.results.model import RunResult, ScenarioResult, TrialResult
from harness.spec.effects import Effect
from harness.spec.verdict import InvariantResult, Verdict

KILL_AT = 2.0
END = 6.0


def _traffic(
    rng: random.Random, down: tuple[float, float], frozen: tuple[float, float]
) -> list[Event]:
    events: list[Event] = []
    t = 0.4
    n = 0
    while t < END:
        n += 1
        if down[0] <= t < down[1]:
            events.append(
                Request(
                    t=t,
                    workload="api",
                    instance=0,
                    ok=False,
                    status=502,
                    latency_s=0.002 + rng.random() * 0.003,
                    error="502 Bad Gateway",
                )
            )
        else:
            slow = 0.25 if frozen[0] <= t < frozen[1] else 0.0
            events.append(
                Request(
                    t=t,
                    workload="api",
                    instance=0,
                    ok=True,
                    status=200,
                    latency_s=0.004 + rng.random() * 0.01 + slow * rng.random(),
                    recorded=f"id-{n}",
                )
            )
        t = round(t + 0.02, 6)
    probe_t = 0.5
    while probe_t < END:
        ok = not (down[0] <= probe_t < down[1])
        events.append(
            ProbeResult(
                t=probe_t,
                name="health",
                instance=0,
                ok=ok,
                status=200 if ok else 503,
                value={"status": "ok" if ok else "down"},
                latency_s=0.003,
            )
        )
        probe_t = round(probe_t + 0.25, 6)
    return events


def backend_kill_trial(index: int, recovery: float, *, seed: int = 7) -> TrialResult:
    """A trial where the backend is SIGKILLed at 2 s and back after ``recovery`` seconds."""
    rng = random.Random(seed + index)
    back = KILL_AT + recovery
    events: list[Event] = [
        Phase(t=0.0, name="prepare"),
        Phase(t=0.01, name="launch"),
        SystemStart(
            t=0.02,
            instance=0,
            pid=1000,
            command=["testbed", "--port", "40001"],
            cwd="/tmp/chaos-run",
        ),
        ProcessStart(
            t=0.03,
            pid=1000,
            ppid=1,
            instance=0,
            role="supervisor",
            cmdline=["python", "-m", "harness.testbed"],
            root=True,
        ),
        ProcessStart(
            t=0.08,
            pid=1001,
            ppid=1000,
            instance=0,
            role="backend",
            cmdline=["python", "-m", "harness.testbed.backend"],
        ),
        ProcessStart(
            t=0.09,
            pid=1003,
            ppid=1000,
            instance=0,
            role="worker",
            cmdline=["python", "-m", "harness.testbed.worker"],
        ),
        PortListen(t=0.3, pid=1001, instance=0, role="backend", port=40002),
        LogLine(t=0.31, instance=0, stream="stdout", line="backend listening on 40002"),
        Ready(t=0.35, instance=0, elapsed_s=0.33, groups={"port": "40001"}),
        Phase(t=0.36, name="ready"),
        Phase(t=0.4, name="faults"),
        FaultAction(
            t=KILL_AT,
            fault=0,
            kind="kill",
            phase=FaultPhase.INSTANT,
            effect=Effect.ENDS,
            role="backend",
            pids=[1001],
            instance=0,
            detail={"signal": "SIGKILL"},
        ),
        ProcessExit(
            t=KILL_AT + 0.01, pid=1001, instance=0, role="backend", code=None, signal="SIGKILL"
        ),
        LogLine(
            t=KILL_AT + 0.05,
            instance=0,
            stream="stderr",
            line="supervisor: backend 1001 died (SIGKILL), restarting",
        ),
        ProcessStart(
            t=back - 0.15,
            pid=1002,
            ppid=1000,
            instance=0,
            role="backend",
            cmdline=["python", "-m", "harness.testbed.backend"],
        ),
        PortListen(t=back - 0.02, pid=1002, instance=0, role="backend", port=40002),
        FaultAction(
            t=3.8,
            fault=1,
            kind="freeze",
            phase=FaultPhase.START,
            effect=Effect.STOPS,
            role="worker",
            pids=[1003],
            instance=0,
            detail={"for": 0.8},
        ),
        FaultAction(
            t=4.6,
            fault=1,
            kind="freeze",
            phase=FaultPhase.END,
            effect=Effect.RESUMES,
            role="worker",
            pids=[1003],
            instance=0,
        ),
        Phase(t=END, name="settle"),
        Phase(t=END + 0.3, name="teardown"),
        Teardown(t=END + 0.31, action=TeardownStep.STOP, pid=1000, instance=0, role="supervisor"),
        ProcessExit(t=END + 0.4, pid=1002, instance=0, role="backend", code=0),
        ProcessExit(t=END + 0.41, pid=1003, instance=0, role="worker", code=0),
        ProcessExit(t=END + 0.45, pid=1000, instance=0, role="supervisor", code=0, signal=None),
        Phase(t=END + 0.5, name="done"),
    ]
    events += _traffic(rng, (KILL_AT + 0.01, back), (3.8, 4.6))
    events.sort(key=lambda e: e.t)
    requests = [e for e in events if isinstance(e, Request)]
    availability = sum(r.ok for r in requests) / len(requests)
    too_slow = recovery > 1.0
    recovery_inv = InvariantResult(
        kind="recovers",
        verdict=Verdict.FAIL if too_slow else Verdict.PASS,
        detail=(
            f"backend was not back within 1s after the kill at t={KILL_AT:.3f}: "
            f"it took {recovery:.3f}s"
            if too_slow
            else f"backend recovered in {recovery:.3f}s (limit 1s)"
        ),
        expected="role backend back to 1 live process within 1s",
        observed=f"back after {recovery:.3f}s",
        metrics={"recovery_s": [round(recovery, 6)]},
        evidence=[KILL_AT, back] if too_slow else [],
        spec={"role": "backend", "within": 1.0},
    )
    availability_inv = InvariantResult(
        kind="availability",
        verdict=Verdict.PASS,
        detail=f"{availability:.2%} of api requests succeeded (min 50%)",
        expected="≥ 50% of requests succeed",
        observed=f"{availability:.2%}",
        metrics={"availability": availability},
        spec={"workload": "api", "min": 0.5},
    )
    trial = TrialResult(
        index=index,
        verdict=Verdict.FAIL if too_slow else Verdict.PASS,
        duration_s=END + 0.5,
        invariants=[recovery_inv, availability_inv],
        metrics={"recovery_s": [round(recovery, 6)], "availability": availability},
        events=events,
        seed=1234 + index,
        vars={"port": "40001"},
    )
    if too_slow:
        trial.events.append(
            LogLine(
                t=back - 0.1,
                instance=0,
                stream="stderr",
                line="\x1b[31mbackend: slow start <script>alert(1)</script> & more\x1b[0m",
            )
        )
        trial.events.sort(key=lambda e: e.t)
        trial.output_tail = [
            "supervisor: backend 1001 died (SIGKILL), restarting",
            "\x1b[31mbackend: slow start <script>alert(1)</script> & more\x1b[0m",
            "backend listening on 40002",
        ]
    return trial


def not_ready_trial(index: int) -> TrialResult:
    """The system never became ready: a failed trial that carries its output."""
    tail = ["Traceback (most recent call last):", "OSError: [Errno 98] Address already in use"]
    events: list[Event] = [
        Phase(t=0.0, name="prepare"),
        Phase(t=0.01, name="launch"),
        SystemStart(t=0.02, instance=0, pid=2000, command=["testbed"], cwd="/tmp/chaos-x"),
        ProcessStart(
            t=0.03, pid=2000, ppid=1, instance=0, role="supervisor", cmdline=["testbed"], root=True
        ),
        ProcessExit(t=0.4, pid=2000, instance=0, role="supervisor", code=1),
        NotReady(
            t=0.41, instance=0, reason="the root exited with code 1 before ready", output_tail=tail
        ),
        Phase(t=0.42, name="teardown"),
        Phase(t=0.5, name="done"),
    ]
    return TrialResult(
        index=index,
        verdict=Verdict.FAIL,
        duration_s=0.5,
        events=events,
        seed=99,
        error="not ready: the root exited with code 1 before ready",
        output_tail=tail,
    )


def error_trial(index: int) -> TrialResult:
    """The harness itself failed: an ``error`` verdict."""
    return TrialResult(
        index=index,
        verdict=Verdict.ERROR,
        duration_s=0.1,
        seed=5,
        error="OSError: [Errno 24] Too many open files",
        events=[
            Phase(t=0.0, name="prepare"),
            HarnessNote(t=0.05, level=NoteLevel.ERROR, message="OSError: too many open files"),
        ],
    )


def realistic_run() -> RunResult:
    """Two passing kill trials, a too-slow one, a not-ready and an error trial, a skip."""
    return RunResult(
        started="2025-01-02T03:04:05+00:00",
        finished="2025-01-02T03:05:00+00:00",
        harness_version="0.1.0",
        argv=["run", "scenarios/", "--repeat", "3"],
        seed=42,
        scenarios=[
            ScenarioResult(
                name="backend-sigkill",
                file="scenarios/backend-sigkill.yaml",
                tags=["kill", "smoke"],
                description="The backend is SIGKILLed under load.",
                trials=[
                    backend_kill_trial(0, 0.48),
                    backend_kill_trial(1, 0.52),
                    backend_kill_trial(2, 1.6),
                ],
            ),
            ScenarioResult(
                name="port-squatted",
                file="scenarios/port-squatted.yaml",
                tags=["port"],
                trials=[not_ready_trial(0), error_trial(1)],
            ),
            ScenarioResult(
                name="needs-docker",
                file="scenarios/needs-docker.yaml",
                skipped="requires docker (not found on PATH)",
            ),
        ],
    )


def recovery_run(
    values: dict[str, list[float]], *, started: str = "2025-01-01T00:00:00+00:00"
) -> RunResult:
    """A run whose scenarios have one passing trial per given recovery time (for compare)."""
    run = RunResult(started=started, harness_version="0.1.0")
    for name, recoveries in values.items():
        run.scenarios.append(
            ScenarioResult(
                name=name,
                file=f"scenarios/{name}.yaml",
                trials=[
                    TrialResult(
                        index=i,
                        verdict=Verdict.PASS,
                        duration_s=5.0,
                        metrics={"recovery_s": [v], "availability": 0.99},
                    )
                    for i, v in enumerate(recoveries)
                ],
            )
        )
    return run


def phase_run(
    values: dict[str, list[dict[str, list[float]]]],
    *,
    started: str = "2025-01-01T00:00:00+00:00",
) -> RunResult:
    """A run whose trials carry per-phase recovery values: ``{scenario: [{phase: [one per
    fault]}, ... one dict per trial]}`` (what ``recovers`` writes since recovery phases)."""
    run = RunResult(started=started, harness_version="0.2.0")
    for name, trials in values.items():
        run.scenarios.append(
            ScenarioResult(
                name=name,
                file=f"scenarios/{name}.yaml",
                trials=[
                    TrialResult(
                        index=i,
                        verdict=Verdict.PASS,
                        duration_s=5.0,
                        metrics={f"recovery_{phase}_s": list(v) for phase, v in trial.items()},
                    )
                    for i, trial in enumerate(trials)
                ],
            )
        )
    return run

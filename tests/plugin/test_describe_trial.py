"""``describe_trial``: the plain-text story of a failed trial that a pytest failure shows."""

from __future__ import annotations

from harness.observe.events import FaultAction, FaultPhase, LogLine, ProcessExit, Request
from harness.report.text import describe_trial
from harness.results.model import TrialResult
from harness.spec.effects import Effect
from harness.spec.verdict import InvariantResult, Verdict


def test_failed_invariant_with_expected_observed_and_events_around_it() -> None:
    events = [
        FaultAction(
            t=1.0,
            fault=0,
            kind="kill",
            phase=FaultPhase.INSTANT,
            effect=Effect.ENDS,
            role="backend",
            pids=[41],
        ),
        ProcessExit(t=1.01, pid=41, instance=0, role="backend", signal="SIGKILL"),
        LogLine(t=1.02, instance=0, stream="stderr", line="backend is not restarted"),
        Request(t=1.5, workload="ui", instance=0, ok=False, status=503),
    ]
    failed = InvariantResult(
        kind="recovers",
        verdict=Verdict.FAIL,
        detail="backend not recovered",
        expected="backend back within 750ms",
        observed="recovery per fault: never",
        evidence=[1.0],
    )
    held = InvariantResult(kind="alive", verdict=Verdict.PASS, detail="supervisor alive")
    trial = TrialResult(
        index=0,
        verdict=Verdict.FAIL,
        duration_s=4.2,
        invariants=[failed, held],
        events=events,
        seed=9,
        vars={"bugs": "no-restart"},
        output_tail=["not shown"],
    )

    text = describe_trial("backend-sigkill", trial)

    lines = text.splitlines()
    assert lines[0] == "backend-sigkill trial 1: FAIL after 4.2s  seed=9"
    assert "  ✗ recovers (fail): backend not recovered" in lines
    assert "      expected: backend back within 750ms" in lines
    assert "      observed: recovery per fault: never" in lines
    assert any("kind=kill" in line and "pids=41" in line for line in lines)
    assert any(line.endswith("backend is not restarted") for line in lines)
    assert "alive" not in text  # only what failed
    assert "not shown" not in text  # judged trials point at events, not raw output


def test_not_ready_trial_shows_the_error_and_the_output_tail() -> None:
    trial = TrialResult(
        index=2,
        verdict=Verdict.FAIL,
        duration_s=20.0,
        error="instance 0 did not become ready: no line matched /listening/",
        output_tail=[f"line {i}" for i in range(30)] + ["\x1b[31mTraceback: boom\x1b[0m"],
    )

    lines = describe_trial("slow-start", trial).splitlines()

    assert lines[0].startswith("slow-start trial 3: FAIL")
    assert "  instance 0 did not become ready: no line matched /listening/" in lines
    assert "  system output (last 20 lines):" in lines
    assert lines[-1] == "    | Traceback: boom"  # colour codes stripped
    assert "    | line 10" not in lines
    assert "    | line 11" in lines

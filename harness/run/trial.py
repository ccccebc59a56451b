"""One trial end to end: launch, observe, break, judge. Teardown always runs.

The order follows Chaos Toolkit's hypothesis/method/rollback and Jepsen's history-first
rule: the system must become ready (steady state), probes and workload record, the nemesis
injects faults on schedule, teardown runs whatever happened, and only then do the checkers
read the recorded timeline.
"""

from __future__ import annotations

import threading
import time

from harness.errors import NotReadyError, SystemUnderTestError
from harness.invariants.judge import judge
from harness.observe.events import HarnessNote, NoteLevel
from harness.results.model import TrialResult, merge_metrics
from harness.run.settle import settle
from harness.run.system import PhaseCallback, RunningSystem
from harness.scenario.model import Scenario
from harness.schedule.nemesis import Nemesis
from harness.spec.verdict import Verdict

_INTERRUPTED = "interrupted (Ctrl-C or SIGTERM): the trial was cut short and not judged"


def run_trial(
    scenario: Scenario,
    index: int,
    seed: int,
    *,
    on_phase: PhaseCallback | None = None,
    keep_run_dir: bool = False,
    abort: threading.Event | None = None,
) -> TrialResult:
    """Run one trial of ``scenario`` and return its judged result.

    Never raises for anything the system under test does: a system that will not start is a
    failed trial carrying its output; an unexpected harness problem is an ``error`` trial.
    """
    stop = abort or threading.Event()
    failure: str | None = None
    error: str | None = None
    output_tail: list[str] = []
    try:
        system = RunningSystem(
            scenario, seed=seed, keep_run_dir=keep_run_dir, on_phase=on_phase, abort=stop
        )
    except Exception as exc:  # the host cannot run a trial at all: nothing was started
        return TrialResult(
            index=index,
            verdict=Verdict.ERROR,
            duration_s=0.0,
            seed=seed,
            error=f"could not prepare the trial: {type(exc).__name__}: {exc}",
        )
    nemesis = Nemesis(scenario.faults, system.ctx)
    try:
        system.phase("prepare")
        nemesis.before_start()
        system.start()
        system.wait_ready()
        system.observe()
        system.phase("faults")
        nemesis.start(system.ready_t or 0.0)
        if stop.wait(max(0.0, min(scenario.duration, system.remaining()))):
            error = _INTERRUPTED  # straight to teardown: nothing left worth judging
        else:
            nemesis.stop()
            settle(system)
    except NotReadyError as exc:
        if stop.is_set():
            error = _INTERRUPTED
        failure = str(exc)
        output_tail = exc.output_tail
    except SystemUnderTestError as exc:
        failure = f"the system could not be started: {exc}"
    except Exception as exc:  # a host problem or our own bug: recorded, never lost
        error = f"{type(exc).__name__}: {exc}"
        system.note(NoteLevel.ERROR, error)
    finally:
        nemesis.stop()
        system.close()
    return _result(scenario, index, seed, system, failure, error, output_tail)


def _result(
    scenario: Scenario,
    index: int,
    seed: int,
    system: RunningSystem,
    failure: str | None,
    error: str | None,
    output_tail: list[str],
) -> TrialResult:
    duration = time.monotonic() - system.started
    events = system.timeline.events()
    result = TrialResult(
        index=index,
        verdict=Verdict.PASS,
        duration_s=duration,
        events=events,
        seed=seed,
        vars=dict(scenario.vars),
        output_tail=output_tail,
    )
    if error is not None:
        result.verdict, result.error = Verdict.ERROR, error
        return result
    if failure is not None:
        result.verdict, result.error = Verdict.FAIL, failure
        return result
    result.invariants = judge(scenario, events)
    result.metrics = merge_metrics(result.invariants)
    if duration > scenario.timeout:
        result.verdict = Verdict.FAIL
        result.error = f"trial took {duration:.1f}s, over its timeout of {scenario.timeout:g}s"
    elif any(i.verdict is not Verdict.PASS for i in result.invariants):
        result.verdict = Verdict.FAIL
    problems = [
        e.message for e in events if isinstance(e, HarnessNote) and e.level is NoteLevel.ERROR
    ]
    if problems and result.verdict is Verdict.PASS:
        # A fault that could not be injected, or an end observation that broke, must never
        # end in a silent pass: the trial did not test what the scenario says.
        result.verdict = Verdict.ERROR
        result.error = "the harness could not do what the scenario says: " + problems[0]
    if result.verdict is not Verdict.PASS:
        result.output_tail = [line for p in system.launched for line in p.output_tail()][-60:]
    return result

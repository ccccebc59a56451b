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
from harness.schedule.model import Schedule, ScheduleError
from harness.schedule.nemesis import Nemesis
from harness.schedule.plan import plan
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
    schedule: Schedule | None = None,
) -> TrialResult:
    """Run one trial of ``scenario`` and return its judged result.

    The trial runs ``schedule`` (``chaos replay``, ``chaos shrink``), by default the one
    its seed plans from the scenario; the result carries it, as the journal stores it.
    Never raises for anything the system under test does: a system that will not start is a
    failed trial carrying its output; an unexpected harness problem is an ``error`` trial.
    """
    stop = abort or threading.Event()
    failure: str | None = None
    error: str | None = None
    output_tail: list[str] = []
    planned = schedule if schedule is not None else plan(scenario, seed)
    try:
        system = RunningSystem(
            scenario, seed=seed, keep_run_dir=keep_run_dir, on_phase=on_phase, abort=stop
        )
    except Exception as exc:  # the host cannot run a trial at all: nothing was started
        return _unprepared(index, seed, planned, f"{type(exc).__name__}: {exc}")
    try:
        nemesis = Nemesis(planned, system.ctx)
    except ScheduleError as exc:  # a stored schedule this version cannot run
        system.close()
        return _unprepared(index, seed, planned, f"its schedule: {exc}")
    waited_from = time.monotonic()
    try:
        system.phase("prepare")
        nemesis.before_start()
        system.start()
        waited_from = time.monotonic()
        if scenario.system.expect_exit is not None:  # never ready: judged once it exited
            failure = system.wait_exit()
            error = _INTERRUPTED if stop.is_set() else None
        else:
            system.wait_ready()
            system.observe()
            system.phase("faults")
            nemesis.start(system.ready_t or 0.0)
            window = system.remaining()
            if stop.wait(max(0.0, min(scenario.duration, window))):
                error = _INTERRUPTED  # straight to teardown: nothing left worth judging
            elif scenario.duration > window:
                error = _observation_cut(system)  # straight to teardown too: not judged
                system.note(NoteLevel.ERROR, error)
            else:
                nemesis.stop()
                settle(system)
    except NotReadyError as exc:
        if stop.is_set():
            error = _INTERRUPTED
        elif _ready_cut(system, waited_from):
            error = _ready_cut_message(system)
            system.note(NoteLevel.ERROR, error)
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
    result = _result(scenario, index, seed, system, failure, error, output_tail)
    result.schedule = planned.to_dict()
    return result


# --------------------------------------------------------------------------- timeouts
#
# ``timeout`` bounds the whole trial, teardown included: the observation and the wait for
# readiness end when teardown must begin (``RunningSystem.remaining``). A trial cut short
# there did not test what the scenario says, so it is an error, never a pass.


def _secs(seconds: float) -> str:
    """``2.5`` → ``2.5s``; a huge duration in hours (``9,999,999h``), never an exponent."""
    if abs(seconds) >= 3600:
        return f"{seconds / 3600:,.0f}h"
    return f"{round(seconds, 2):g}s"


def _budget(system: RunningSystem) -> str:
    scenario = system.scenario
    return (
        f"the timeout of {_secs(scenario.timeout)} less {_secs(system.teardown_budget())}"
        f" for teardown: stop grace {_secs(scenario.system.stop.grace)} + 2s to sweep"
    )


def _observation_cut(system: RunningSystem) -> str:
    scenario = system.scenario
    ready = system.ready_t or 0.0
    end = scenario.timeout - system.teardown_budget()
    if end <= 0:
        return _no_time(system)
    return (
        f"ran past its timeout: ready at {_secs(ready)}, a duration of"
        f" {_secs(scenario.duration)} would end at {_secs(ready + scenario.duration)}, but"
        f" teardown had to begin at {_secs(end)} ({_budget(system)}); stopped there, not judged"
    )


def _ready_cut(system: RunningSystem, waited_from: float) -> bool:
    """Whether the wait for readiness ended at the trial's deadline, not at its own."""
    cutoff = system.deadline - system.teardown_budget()
    own = waited_from + system.scenario.system.ready.timeout
    return own > cutoff and time.monotonic() >= cutoff


def _ready_cut_message(system: RunningSystem) -> str:
    scenario = system.scenario
    end = scenario.timeout - system.teardown_budget()
    if end <= 0:
        return _no_time(system)
    return (
        f"ran past its timeout while waiting for the system to be ready: teardown had to"
        f" begin at {_secs(end)} ({_budget(system)}), before its ready.timeout of"
        f" {_secs(scenario.system.ready.timeout)} was up; not judged"
    )


def _no_time(system: RunningSystem) -> str:
    scenario = system.scenario
    return (
        f"ran past its timeout: {_secs(scenario.timeout)} leaves no time to observe, teardown"
        f" alone may take {_secs(system.teardown_budget())} (stop grace"
        f" {_secs(scenario.system.stop.grace)} + 2s to sweep); not judged"
    )


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
        if error != _INTERRUPTED and not output_tail:
            result.output_tail = _tail(system)
        return result
    if failure is not None:
        result.verdict, result.error = Verdict.FAIL, failure
        return result
    result.invariants = judge(scenario, events)
    result.metrics = merge_metrics(result.invariants)
    if duration > scenario.timeout:
        result.verdict = Verdict.ERROR
        result.error = (
            f"ran past its timeout: took {_secs(duration)}, over its timeout of"
            f" {_secs(scenario.timeout)} (teardown included)"
        )
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
        result.output_tail = _tail(system)
    return result


def _tail(system: RunningSystem) -> list[str]:
    return [line for p in system.launched for line in p.output_tail()][-60:]


def _unprepared(index: int, seed: int, planned: Schedule, why: str) -> TrialResult:
    """An ``error`` trial that never started: nothing ran, so nothing was observed."""
    return TrialResult(
        index=index,
        verdict=Verdict.ERROR,
        duration_s=0.0,
        seed=seed,
        error=f"could not prepare the trial: {why}",
        schedule=planned.to_dict(),
    )

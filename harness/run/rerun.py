"""Rerunning one journal trial: its stored schedule exactly (``chaos replay``), or a shrink's
candidates (``chaos shrink``, ``chaos run --shrink``).

A rerun is a trial like any other (``run_trial``), of the scenario file the journal names
with the vars that trial ran with, the same index and seed, and a given schedule in place
of the one the seed would plan. The host is prepared as for a run (child subreaper, what a
killed run left behind reaped), once per process.
"""

from __future__ import annotations

import datetime as _dt
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.disks.mounts import sweep_orphans
from harness.errors import UsageError
from harness.results.model import RunResult, ScenarioResult, TrialResult
from harness.run.catalog import load_scenario
from harness.run.trial import run_trial
from harness.scenario.model import Scenario
from harness.schedule.model import Schedule, ScheduleError
from harness.schedule.plan import bind, plan
from harness.schedule.replay import stored_schedule
from harness.schedule.shrink import Budget, Shrinker, ShrinkResult, same_failure
from harness.spec.version import __version__
from harness.system import rundir
from harness.system.subreaper import become_subreaper, reap_leftovers

_prepared = threading.Lock()
_done: list[bool] = []


def prepare_host() -> None:
    """What ``Run.execute`` does before its first trial, once per process."""
    with _prepared:
        if _done:
            return
        become_subreaper()
        reap_leftovers()
        sweep_orphans()
        rundir.remove_stale()
        _done.append(True)


@dataclass(frozen=True)
class Target:
    """A journal's trial, ready to rerun: its scenario (file and vars as it ran) and the
    schedule it ran (``planned``: recomputed from its seed, the journal had none)."""

    scenario: Scenario
    record: ScenarioResult
    trial: TrialResult
    seed: int
    schedule: Schedule
    planned: bool


def target_of(record: ScenarioResult, trial: TrialResult) -> Target:
    """Load what rerunning ``trial`` needs; ``UsageError`` for what stands in the way."""
    path = Path(record.file)
    if not record.file or not path.is_file():
        raise UsageError(
            f"the scenario file {record.file!r} of {record.name} is not there: rerun from "
            "the folder the run was started in"
        )
    scenario = load_scenario(path, trial.vars)
    if scenario.name != record.name:
        raise UsageError(
            f"{record.file} is now scenario {scenario.name!r}, not {record.name!r}: "
            "the file changed since the journal was written"
        )
    try:
        stored = stored_schedule(trial)
    except ScheduleError as exc:
        raise UsageError(f"{record.name}#{trial.index}: its stored schedule: {exc}") from None
    seed = trial.seed if trial.seed is not None else (stored.seed if stored else 0)
    schedule = stored if stored is not None else plan(scenario, seed)
    try:
        bind(schedule)
    except ScheduleError as exc:
        raise UsageError(f"{record.name}#{trial.index}: its schedule cannot run: {exc}") from None
    return Target(scenario, record, trial, seed, schedule, planned=stored is None)


def rerun(
    target: Target,
    schedule: Schedule | None = None,
    *,
    abort: threading.Event | None = None,
    keep_run_dir: bool = False,
) -> TrialResult:
    """One more trial of ``target``, running ``schedule`` (default: the one it ran)."""
    prepare_host()
    return run_trial(
        target.scenario,
        target.trial.index,
        target.seed,
        schedule=target.schedule if schedule is None else schedule,
        abort=abort,
        keep_run_dir=keep_run_dir,
    )


def as_run(target: Target, trial: TrialResult, argv: list[str]) -> RunResult:
    """A one-trial ``RunResult`` (what a replay's journal holds)."""
    now = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    record = target.record
    scenario = ScenarioResult(
        name=record.name,
        file=record.file,
        tags=list(record.tags),
        description=record.description,
        expected_failure=target.scenario.expected_failure,
        trials=[trial],
    )
    return RunResult(
        started=now,
        finished=now,
        harness_version=__version__,
        argv=argv,
        seed=target.seed,
        scenarios=[scenario],
    )


Progress = Callable[[int, bool, TrialResult], None]
"""Told after every rerun of a shrink: its number, whether it failed the same way, the trial."""


def shrink(
    target: Target,
    budget: Budget,
    *,
    on_run: Progress | None = None,
    abort: threading.Event | None = None,
) -> ShrinkResult:
    """Shrink ``target``'s schedule (``harness.schedule.shrink``), each candidate rerun as a
    trial and judged against the original's failure."""
    runs = 0

    def attempt(candidate: Schedule) -> bool:
        nonlocal runs
        result = rerun(target, candidate, abort=abort)
        if abort is not None and abort.is_set():
            raise KeyboardInterrupt
        runs += 1
        failed = same_failure(target.trial, result)
        if on_run is not None:
            on_run(runs, failed, result)
        return failed

    return Shrinker(target.schedule, attempt, budget).shrink()

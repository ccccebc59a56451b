"""The run: every selected scenario and trial, in parallel when asked, journaled as it goes.

Trials share nothing but the journal and the run's containment scope (its cgroup and its
guardian): each owns its folder, ports, trial cgroup and process tree, so ``--jobs N`` is
safe. The journal is rewritten atomically after every trial, so a run that is killed
keeps every trial it finished. Before anything starts, what dead earlier runs left is
ended (``leftovers``) and said: in the header and in the journal.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import random
import threading
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from harness.results import journal
from harness.results.model import HostUse, RunResult, ScenarioResult, TrialResult
from harness.run.trial import run_trial
from harness.scenario.loader import missing_requirements
from harness.scenario.model import Scenario
from harness.spec.verdict import Verdict
from harness.spec.version import __version__
from harness.system import containment, leftovers, rundir
from harness.system.subreaper import become_subreaper


class RunObserver(Protocol):
    """Progress callbacks (the console's live display implements this)."""

    def run_started(self, host: HostUse, summary: str) -> None: ...

    def trial_started(self, scenario: str, index: int, total: int) -> None: ...

    def phase(self, scenario: str, index: int, name: str) -> None: ...

    def trial_finished(self, scenario: str, result: TrialResult) -> None: ...


class _Silent:
    def run_started(self, host: HostUse, summary: str) -> None:
        pass

    def trial_started(self, scenario: str, index: int, total: int) -> None:
        pass

    def phase(self, scenario: str, index: int, name: str) -> None:
        pass

    def trial_finished(self, scenario: str, result: TrialResult) -> None:
        pass


@dataclass
class RunOptions:
    """How to run: the CLI and the pytest plugin both fill this."""

    seed: int | None = None
    jobs: int = 1
    fail_fast: bool = False
    journal_path: Path | None = None
    keep_run_dirs: bool = False
    argv: list[str] = field(default_factory=list)


def trial_seed(base: int, scenario: str, index: int) -> int:
    """A stable per-trial seed: the same ``--seed`` replays the same choices."""
    digest = hashlib.sha256(f"{base}:{scenario}:{index}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


class Run:
    """One ``chaos run``: schedules trials, collects results, keeps the journal current."""

    def __init__(
        self,
        scenarios: Sequence[Scenario],
        options: RunOptions,
        observer: RunObserver | None = None,
    ) -> None:
        self.scenarios = list(scenarios)
        self.options = options
        self.observer: RunObserver = observer or _Silent()
        self.seed = options.seed if options.seed is not None else random.randrange(2**31)
        self.result = RunResult(
            started=_now(), harness_version=__version__, argv=options.argv, seed=self.seed
        )
        self.abort = threading.Event()
        """Interrupted (Ctrl-C, SIGTERM): running trials are cut short, none is started."""
        self.failed_fast = threading.Event()
        """``--fail-fast`` saw a failure: no new trial starts; running ones finish."""
        self._lock = threading.Lock()

    def execute(self) -> RunResult:
        """Run everything; on KeyboardInterrupt, stop trials (teardown still runs)."""
        become_subreaper()
        ended = leftovers.reap()
        rundir.remove_stale()
        scope = containment.acquire()  # one guardian and one run cgroup for every trial
        try:
            self.result.host = HostUse(
                containment=str(scope.containment.mode),
                containment_detail=scope.containment.detail,
                process_events=str(scope.events.source),
                process_events_detail=scope.events.detail,
                leftovers=ended,
            )
            self.observer.run_started(self.result.host, scope.summary())
            return self._execute()
        finally:
            containment.release(scope)

    def _execute(self) -> RunResult:
        jobs: list[tuple[Scenario, ScenarioResult, int]] = []
        for scenario in self.scenarios:
            sresult = ScenarioResult(
                name=scenario.name,
                file=scenario.file,
                tags=list(scenario.tags),
                description=scenario.description,
            )
            self.result.scenarios.append(sresult)
            missing = missing_requirements(scenario)
            if missing:
                sresult.skipped = "requires " + ", ".join(missing) + " (not found on PATH)"
                continue
            jobs.extend((scenario, sresult, i) for i in range(scenario.repeat))
        self._save()
        try:
            self._schedule(jobs)
        finally:
            self.result.finished = _now()
            for sresult in self.result.scenarios:
                sresult.trials.sort(key=lambda t: t.index)
            self._save()
        return self.result

    def _schedule(self, jobs: list[tuple[Scenario, ScenarioResult, int]]) -> None:
        pending = list(jobs)
        with ThreadPoolExecutor(max_workers=max(1, self.options.jobs)) as pool:
            running: dict[Future[TrialResult], tuple[Scenario, ScenarioResult]] = {}
            try:
                while pending or running:
                    while pending and len(running) < max(1, self.options.jobs):
                        if self.abort.is_set() or self.failed_fast.is_set():
                            pending.clear()
                            break
                        scenario, sresult, index = pending.pop(0)
                        self.observer.trial_started(scenario.name, index, scenario.repeat)
                        future = pool.submit(self._trial, scenario, index)
                        running[future] = (scenario, sresult)
                    if not running:
                        break
                    done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                    for future in done:
                        scenario, sresult = running.pop(future)
                        self._finish(scenario, sresult, future.result())
            except BaseException:
                self.abort.set()
                for future, (scenario, sresult) in list(running.items()):
                    self._finish(scenario, sresult, future.result())
                raise

    def _trial(self, scenario: Scenario, index: int) -> TrialResult:
        return run_trial(
            scenario,
            index,
            trial_seed(self.seed, scenario.name, index),
            on_phase=lambda name: self.observer.phase(scenario.name, index, name),
            keep_run_dir=self.options.keep_run_dirs,
            abort=self.abort,
        )

    def _finish(self, scenario: Scenario, sresult: ScenarioResult, trial: TrialResult) -> None:
        with self._lock:
            sresult.trials.append(trial)
            self._save()
        self.observer.trial_finished(scenario.name, trial)
        if self.options.fail_fast and trial.verdict is not Verdict.PASS:
            self.failed_fast.set()

    def _save(self) -> None:
        if self.options.journal_path is not None:
            journal.write(self.result, self.options.journal_path)

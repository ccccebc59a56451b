"""The run: every selected scenario and trial, in parallel when asked, journaled as it goes.

Trials share nothing but the journal and the run's containment scope (its cgroup and its
guardian): each owns its folder, ports, trial cgroup and process tree, so ``--jobs N`` is
safe. The journal is rewritten atomically after every trial, so a run that is killed
keeps every trial it finished; a run that cannot write it (a full disk) goes on, and
leaves no stale journal behind. Before anything starts, what dead earlier runs left is
ended (``leftovers``) and said: in the header and in the journal.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import random
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from harness.disks.mounts import sweep_orphans
from harness.results import journal
from harness.results.files import WriteFailure, write_or_clear
from harness.results.model import HostUse, RunResult, ScenarioResult, TrialResult
from harness.run import shards
from harness.run.fingerprint import scenario_digest
from harness.run.system import host_refusals
from harness.run.trial import run_trial
from harness.scenario.loader import missing_requirements, skip_reason
from harness.scenario.model import Scenario
from harness.spec.version import __version__
from harness.system import containment, leftovers, rundir
from harness.system.subreaper import become_subreaper


class RunObserver(Protocol):
    """Progress callbacks (the console's live display implements this)."""

    def run_started(self, host: HostUse, summary: str) -> None: ...

    def trial_started(self, scenario: str, index: int, total: int) -> None: ...

    def phase(self, scenario: str, index: int, name: str) -> None: ...

    def trial_finished(
        self, scenario: str, result: TrialResult, expected_failure: str | None = None
    ) -> None:
        """``expected_failure``: the reason of the scenario's ``expect: fail``."""
        ...


class _Silent:
    def run_started(self, host: HostUse, summary: str) -> None:
        pass

    def trial_started(self, scenario: str, index: int, total: int) -> None:
        pass

    def phase(self, scenario: str, index: int, name: str) -> None:
        pass

    def trial_finished(
        self, scenario: str, result: TrialResult, expected_failure: str | None = None
    ) -> None:
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
    on_journal: Callable[[str], None] | None = None
    """Told when saving the journal starts failing, or works again (the run goes on)."""
    shard: shards.Shard | None = None
    """Run only this shard's trials of the plan (``--shard K/N``; ``harness.run.shards``)."""


def trial_seed(base: int, scenario: str, index: int) -> int:
    """A stable per-trial seed: the same ``--seed`` replays the same choices.

    Trial 0 takes the base seed itself, so the seed a failing trial prints reruns it alone:
    ``chaos run FILE -k NAME --seed N --repeat 1`` is trial 0 of seed N, the same trial.
    """
    if index == 0:
        return base
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
        self.journal_failure: WriteFailure | None = None
        """Why the last save of the journal failed; ``None`` when it is current."""

    def execute(self) -> RunResult:
        """Run everything; on KeyboardInterrupt, stop trials (teardown still runs)."""
        become_subreaper()
        ended = leftovers.reap()
        sweep_orphans()  # disks a killed run left mounted, before their folders go
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
        owned = shards.owned(self.scenarios, self.options.shard)
        self.result.plan = {s.name: s.repeat for s in self.scenarios}
        self.result.shard = str(self.options.shard) if self.options.shard else None
        for scenario in self.scenarios:
            if not owned[scenario.name]:
                continue  # another shard's: skipped or not, it is that shard's to record
            sresult = ScenarioResult(
                name=scenario.name,
                file=scenario.file,
                tags=list(scenario.tags),
                description=scenario.description,
                digest=scenario_digest(scenario),
                expected_failure=scenario.expected_failure,
            )
            self.result.scenarios.append(sresult)
            missing = missing_requirements(scenario)
            if missing:
                sresult.skipped = skip_reason(missing)
                continue
            refused = host_refusals(scenario)
            if refused:
                sresult.skipped = "this host cannot run it: " + "; ".join(refused)
                continue
            jobs.extend((scenario, sresult, i) for i in owned[scenario.name])
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
        self.observer.trial_finished(scenario.name, trial, sresult.expected_failure)
        if self.options.fail_fast and sresult.outcome_of(trial).bad:
            self.failed_fast.set()

    def _save(self) -> None:
        """Rewrite the journal. A failed write never ends the run nor leaves a stale journal:
        the older one (an earlier save, or another run's) is removed (``write_or_clear``)
        and the next save tries again; ``on_journal`` hears when that starts, and when a
        save works again."""
        path = self.options.journal_path
        if path is None:
            return
        failure = write_or_clear(path, lambda target: journal.write(self.result, target))
        if failure is not None and failure != self.journal_failure:
            self._tell(
                f"could not write the journal {failure}; the run goes on, and every trial"
                " tries again"
            )
        elif failure is None and self.journal_failure is not None:
            self._tell(f"the journal {path} is written again and is current")
        self.journal_failure = failure

    def _tell(self, message: str) -> None:
        if self.options.on_journal is not None:
            self.options.on_journal(message)

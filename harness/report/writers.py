"""Write the requested reports of a run, and re-judge a journal with a scenario's rules.

Which reports exist is ``registry.REPORTERS``; this module only writes them. Each file is
written through a temp file, ``fsync`` and ``os.replace``, like the journal: a reader (a CI
upload step, a browser) never sees half a report; it gets the umask's mode (0644 under
022). Each is written on its own: a full disk under one does not cost the others, and a
failed one leaves no stale file in its place.
Re-judging keeps the recorded timeline and replaces only the verdicts: history first,
judgement after.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import HostError
from harness.observe.events import Event
from harness.report.markdown import write_step_summary
from harness.report.registry import REPORTERS
from harness.results.files import WriteFailure, write_atomic, write_or_clear
from harness.results.model import RunResult, ScenarioResult, TrialResult, merge_metrics
from harness.spec.verdict import InvariantResult, Verdict

if TYPE_CHECKING:
    from harness.scenario.model import Scenario

Judge = Callable[["Scenario", Sequence[Event]], list[InvariantResult]]


def write_text(path: Path, text: str) -> None:
    """Replace ``path`` atomically with ``text`` (UTF-8), with the umask's mode."""
    write_atomic(path, text)


class ReportsNotWritten(HostError):
    """Some reports could not be written (each named with its OS error); the others were."""

    def __init__(self, failures: Sequence[WriteFailure], written: Sequence[Path]) -> None:
        self.failures = list(failures)
        self.written = list(written)
        super().__init__("could not write " + "; ".join(str(f) for f in self.failures))


def write_reports(run: RunResult, targets: Mapping[str, Path]) -> list[Path]:
    """Write each report named in ``targets`` (reporter name → file), in that order, then
    append the Markdown summary to the GitHub step summary when it is set.

    Returns the files written. Each is written on its own: one that fails (a full disk, a
    folder that cannot be made) does not stop the others, and leaves no older file of its
    own behind; once all were tried, ``ReportsNotWritten`` names every failure. An unknown
    name raises ``KeyError`` (with the known names) before anything is written.
    """
    chosen = [(REPORTERS.get(name), path) for name, path in targets.items()]
    written: list[Path] = []
    failures: list[WriteFailure] = []
    for reporter, path in chosen:
        failure = write_or_clear(path, functools.partial(write_text, text=reporter.render(run)))
        if failure is None:
            written.append(path)
        else:
            failures.append(failure)
    try:
        summary = write_step_summary(run)
    except OSError as exc:  # appended to, never replaced: nothing to remove
        target = Path(exc.filename) if exc.filename else Path("$GITHUB_STEP_SUMMARY")
        failures.append(WriteFailure(target, exc.strerror or str(exc)))
    else:
        if summary is not None:
            written.append(summary)
    if failures:
        raise ReportsNotWritten(failures, written)
    return written


# --------------------------------------------------------------------------- re-judging


def _rejudge_trial(scenario: Scenario, trial: TrialResult, judge: Judge) -> TrialResult:
    if trial.verdict in (Verdict.ERROR, Verdict.SKIP) or (trial.error and not trial.invariants):
        return trial  # never judged (not ready, harness error): nothing to re-judge
    invariants = judge(scenario, trial.events)
    failed = any(i.verdict is not Verdict.PASS for i in invariants)
    over_time = trial.error is not None  # e.g. over its timeout: still a failure
    return dataclasses.replace(
        trial,
        invariants=invariants,
        metrics=merge_metrics(list(invariants)),
        verdict=Verdict.FAIL if failed or over_time else Verdict.PASS,
    )


def rejudge(run: RunResult, scenarios: Sequence[Scenario], judge: Judge | None = None) -> RunResult:
    """A copy of ``run`` whose trials of the given scenarios (matched by name) are judged
    again on their recorded events, and read against the file's ``expect`` now; scenarios
    not given are kept as they were."""
    if judge is None:
        from harness.invariants.judge import judge as default_judge

        judge = default_judge
    by_name = {s.name: s for s in scenarios}
    rejudged: list[ScenarioResult] = []
    for sresult in run.scenarios:
        scenario = by_name.get(sresult.name)
        if scenario is None:
            rejudged.append(sresult)
            continue
        trials = [_rejudge_trial(scenario, t, judge) for t in sresult.trials]
        rejudged.append(
            dataclasses.replace(sresult, trials=trials, expected_failure=scenario.expected_failure)
        )
    return dataclasses.replace(run, scenarios=rejudged)

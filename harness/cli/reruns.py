"""Rerunning a trial: the commands a failed trial prints, ``replay``, ``shrink`` and
``run --shrink``."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from harness.cli.app import (
    ExitCode,
    HelpCommand,
    app,
    examples,
    exit_for,
    make_console,
    terminate_as_interrupt,
    user_errors,
    warn,
)
from harness.errors import JournalError, UsageError
from harness.report import escape
from harness.results.model import RunResult, TrialResult
from harness.spec.verdict import Verdict

if TYPE_CHECKING:
    from harness.run.rerun import Target
    from harness.schedule.shrink import Budget


def _declared_vars(file: str, cache: dict[str, dict[str, str]]) -> dict[str, str]:
    if file not in cache:
        from harness.schedule.replay import declared_vars

        cache[file] = declared_vars(Path(file))
    return cache[file]


def print_reruns(run: RunResult, journal_path: Path, console: Console) -> None:
    """For every failed trial (not those failing as expected): its seed, and the commands
    that rerun it alone."""
    from harness.schedule.replay import failing, replay_command, rerun_command

    declared: dict[str, dict[str, str]] = {}
    trials = [(s, t) for s, t in failing(run) if s.outcome_of(t).bad]
    if trials:
        console.print()
    for scenario, trial in trials:
        if trial.seed is None:
            continue
        defaults = _declared_vars(scenario.file, declared)
        overrides = {k: v for k, v in trial.vars.items() if defaults.get(k) != v}
        console.print(
            escape.console((f"{scenario.name}#{trial.index}", "bold"), f" seed {trial.seed}")
        )
        command = rerun_command(scenario.file, scenario.name, trial.seed, overrides)
        console.print(escape.console("  rerun alone:          ", (command, "cyan")), soft_wrap=True)
        replay = replay_command(journal_path, scenario.name, trial.index)
        console.print(escape.console("  replay its schedule:  ", (replay, "cyan")), soft_wrap=True)


def budget_of(runs: int, seconds: str) -> Budget:
    from harness.schedule.shrink import Budget
    from harness.spec.units import parse_duration

    try:
        return Budget(runs=runs, seconds=parse_duration(seconds))
    except ValueError as exc:
        raise UsageError(f"--time: {exc}") from None


def shrink_one(
    target: Target, budget: Budget, out: Path, journal_file: Path, console: Console
) -> bool:
    """Shrink one trial and write its smallest failing scenario to ``out``; False when the
    failure did not recur (nothing written)."""
    from harness.run import rerun
    from harness.schedule.replay import shrink_command
    from harness.schedule.written import scenario_text, shrink_header

    name = f"{target.record.name}#{target.trial.index}"
    steps = len(target.schedule.steps)
    console.print(
        escape.console(
            ("shrinking ", "bold"),
            f"{name}: {steps} fault step(s), a budget of {budget.runs} rerun(s) and "
            f"{budget.seconds:g}s",
        )
    )

    def told(number: int, failed: bool, trial: TrialResult) -> None:
        said = "fails the same way" if failed else f"does not: {trial.verdict}"
        if not failed and trial.verdict is Verdict.FAIL:
            said = "fails, but not the same way"
        console.print(escape.console(f"  rerun {number}: {said}", style="dim"))

    result = rerun.shrink(target, budget, on_run=told)
    if not result.reproduced:
        console.print(
            escape.console(
                f"{name} passed on its rerun: the failure did not recur, so there is nothing to "
                "shrink (a flaky failure: rerun it with --repeat to see how often it fails)",
                style="yellow",
            )
        )
        return False
    command = shrink_command(journal_file, target.record.name, target.trial.index)
    header = shrink_header(
        result, file=target.record.file, trial=name, seed=target.seed, command=command
    )
    text = scenario_text(
        Path(target.record.file).read_text(encoding="utf-8"),
        result.smallest,
        name=target.record.name,
        variables=target.trial.vars,
        header=header,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    for line in result.summary() or ["nothing could be removed, moved or shortened"]:
        console.print(escape.console(f"  {line}"))
    console.print(
        escape.console(
            f"{len(result.smallest.steps)} of {steps} fault step(s) still fail, after "
            f"{result.runs} rerun(s) in {result.seconds:.0f}s"
            + (f" (stopped by {result.stopped})" if result.stopped else ""),
            f"; wrote {out}",
        )
    )
    return True


def shrink_all_failed(run: RunResult, out: Path, journal_path: Path, console: Console) -> None:
    """``run --shrink``: every failed trial shrunk into ``out/shrunk/NAME-I.yaml``."""
    from harness.run.rerun import target_of
    from harness.schedule.replay import failing

    for scenario, trial in failing(run):
        if trial.verdict is not Verdict.FAIL:
            continue  # an error is the harness's or the host's, not the system's failure
        console.print()
        try:
            target = target_of(scenario, trial)
        except UsageError as exc:  # the run's verdicts stand; this trial cannot be shrunk
            warn(f"{scenario.name}#{trial.index} cannot be shrunk: {exc}")
            continue
        dest = out / "shrunk" / f"{scenario.name}-{trial.index}.yaml"
        shrink_one(target, budget_of(20, "10m"), dest, journal_path, console)


def journal_target(journal_file: Path, trial: str) -> Target:
    from harness.results import journal
    from harness.run.rerun import target_of
    from harness.schedule.replay import find_trial, parse_ref

    name, index = parse_ref(trial)
    try:
        result = journal.read(journal_file)
    except JournalError as exc:
        raise UsageError(str(exc)) from None
    return target_of(*find_trial(result, name, index))


@app.command(
    cls=HelpCommand,
    epilog=examples("chaos replay reports/journal.json --trial 'backend-kill-tick#3'"),
)
def replay(
    journal_file: Annotated[Path, typer.Argument(metavar="JOURNAL", help="A journal.json.")],
    trial: Annotated[str, typer.Option("--trial", metavar="NAME#I", help="The trial to rerun.")],
    out: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR",
            help="Folder for the replay's journal (default: JOURNAL's folder/replay).",
        ),
    ] = None,
    keep: Annotated[bool, typer.Option(help="Keep the trial's run folder.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the exit code.")] = False,
) -> None:
    """Rerun one trial of a journal with exactly the schedule it stored, and judge it.

    Exits as run would for its verdict; writes the replay's own journal.
    """
    from harness.report.console import render_summary
    from harness.results import journal
    from harness.run import rerun
    from harness.schedule.describe import describe

    with user_errors():
        target = journal_target(journal_file, trial)
        console = make_console(quiet)
        if target.planned:
            warn(
                f"{trial}: the journal stored no schedule (written before schedules were); "
                f"planned again from its seed {target.seed} and the scenario file as it is now"
            )
        for line in describe(target.record.name, target.trial.index, target.schedule):
            console.print(escape.console(line), soft_wrap=True)
        signal.signal(signal.SIGTERM, terminate_as_interrupt)
        result = rerun.as_run(target, rerun.rerun(target, keep_run_dir=keep), sys.argv[1:])
        folder = journal_file.parent / "replay" if out is None else out
        if folder.resolve() == journal_file.parent.resolve():
            raise UsageError(f"--out {folder} would overwrite {journal_file}; choose another")
        path = folder / "journal.json"
        journal.write(result, path)
        render_summary(result, console)
        print_reruns(result, path, console)
        console.print(escape.console(f"journal: {path}", style="dim"))
    raise typer.Exit(int(exit_for(result)))


@app.command(
    cls=HelpCommand,
    epilog=examples("chaos shrink reports/journal.json --trial 'backend-kill-tick#3' --out s.yaml"),
)
def shrink(
    journal_file: Annotated[Path, typer.Argument(metavar="JOURNAL", help="A journal.json.")],
    trial: Annotated[
        str, typer.Option("--trial", metavar="NAME#I", help="The failed trial to shrink.")
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Where to write the scenario (default: JOURNAL's folder/NAME-I-shrunk.yaml).",
        ),
    ] = None,
    runs: Annotated[int, typer.Option("--budget", min=2, metavar="N", help="Reruns at most.")] = 40,
    time: Annotated[
        str, typer.Option("--time", metavar="DURATION", help="Wall-clock time at most.")
    ] = "15m",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the exit code.")] = False,
) -> None:
    """Shrink a failed trial: the smallest schedule that still fails, as a scenario file.

    Reruns it with fewer, earlier, closer and shorter faults, keeping each change that
    still fails.

    A candidate counts as failing only if it fails the same way on two runs in a row.
    Exit 0: written; 1: the failure did not recur on a rerun (nothing written).
    """
    with user_errors():
        budget = budget_of(runs, time)
        target = journal_target(journal_file, trial)
        if target.trial.verdict is not Verdict.FAIL:
            raise UsageError(
                f"{trial} did not fail (its verdict is {target.trial.verdict}): only a failed "
                "trial can be shrunk"
            )
        name = f"{target.record.name}-{target.trial.index}-shrunk.yaml"
        dest = journal_file.parent / name if out is None else out
        signal.signal(signal.SIGTERM, terminate_as_interrupt)
        written = shrink_one(target, budget, dest, journal_file, make_console(quiet))
    raise typer.Exit(int(ExitCode.OK if written else ExitCode.FAILED))

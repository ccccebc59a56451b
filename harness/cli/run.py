"""``chaos run``: run every scenario, judge each trial, write every report (and
``--dry-run``, ``--shard``)."""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from harness.cli.app import (
    PATHS,
    SELECT,
    VAR,
    ExitCode,
    app,
    examples,
    fail,
    load_scenarios,
    make_console,
    parse_vars,
    terminate_as_interrupt,
    user_errors,
    warn,
)
from harness.cli.flags import (
    ReportsCommand,
    asked,
    exit_after_reports,
    with_report_flags,
    write_all,
)
from harness.cli.reruns import (
    print_reruns,
    shrink_all_failed,
)
from harness.errors import UsageError
from harness.report import escape
from harness.report.registry import JOURNAL, default_targets
from harness.scenario.model import Scenario

if TYPE_CHECKING:
    from harness.run.shards import Shard


@app.command(
    cls=ReportsCommand,
    epilog=examples(
        "chaos run scenarios/",
        "chaos run scenarios/ --repeat 5 --jobs 2 -k 'sigkill and not module'",
        "chaos run backend-sigkill.yaml --var bugs=slow-restart --html out/report.html",
    ),
)
@with_report_flags
def run(
    paths: Annotated[list[Path], PATHS],
    repeat: Annotated[
        int | None, typer.Option(min=1, metavar="N", help="Trials per scenario.")
    ] = None,
    var: Annotated[list[str], VAR] = [],  # noqa: B006
    select: Annotated[str | None, SELECT] = None,
    out: Annotated[
        Path, typer.Option(metavar="DIR", help="Folder for the journal and reports.")
    ] = Path("reports"),
    seed: Annotated[int | None, typer.Option(metavar="N", help="Seed for random choices.")] = None,
    fail_fast: Annotated[
        bool, typer.Option("--fail-fast", help="Start no trial after the first failure.")
    ] = False,
    jobs: Annotated[int, typer.Option(min=1, metavar="N", help="Trials in parallel.")] = 1,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only the result line.")
    ] = False,
    keep: Annotated[bool, typer.Option("--keep", help="Keep each trial's run folder.")] = False,
    shard: Annotated[
        str | None,
        typer.Option(
            metavar="K/N",
            help="Run only shard K of N of the trials (every shard: same paths, options and "
            "--seed); merge the journals with chaos report.",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print every trial's schedule; start nothing.")
    ] = False,
    shrink_failures: Annotated[
        bool, typer.Option("--shrink", help="Shrink every failed trial (as chaos shrink).")
    ] = False,
    **reports: str | None,
) -> None:
    """Run every scenario found in the PATHs and judge each trial.

    Every report is written, into --out unless its flag gives another FILE.
    """
    from harness.report.console import RunProgress, render_result_line, render_summary
    from harness.run.runner import Run, RunOptions

    with user_errors():
        part = _shard(shard, seed)
        scenarios = load_scenarios(paths, parse_vars(var), select, repeat)
        if not scenarios:
            fail(f"-k {select!r} selected no scenario", ExitCode.USAGE)
        if dry_run:
            _dry_run(scenarios, seed, make_console(quiet))
            raise typer.Exit(int(ExitCode.OK))
        targets = {**default_targets(out), **asked(reports, out)}
        journal_path = targets[JOURNAL]
        console = make_console(quiet)
        if part is not None:
            console.print(escape.console(_shard_line(scenarios, part), style="dim"))
        signal.signal(signal.SIGTERM, terminate_as_interrupt)
        with RunProgress(console) as progress:
            runner = Run(
                scenarios,
                RunOptions(
                    seed=seed,
                    jobs=jobs,
                    fail_fast=fail_fast,
                    journal_path=journal_path,
                    keep_run_dirs=keep,
                    argv=sys.argv[1:],
                    on_journal=warn,
                    shard=part,
                ),
                observer=progress,
            )
            result = runner.execute()
        if quiet:
            render_result_line(result, make_console())
        else:
            render_summary(result, console)
            print_reruns(result, journal_path, console)
        if runner.journal_failure is None:  # already current: the runner wrote it last
            del targets[JOURNAL]
        written, failures = write_all(result, targets)
        if runner.journal_failure is None:
            written.insert(0, journal_path)
        if not quiet:
            console.print(escape.console("reports: " + ", ".join(map(str, written)), style="dim"))
        if shrink_failures:
            shrink_all_failed(result, out, journal_path, console)
    raise typer.Exit(int(exit_after_reports(result, failures)))


def _shard(text: str | None, seed: int | None) -> Shard | None:
    """``--shard K/N``, which needs ``--seed``: a trial's seed comes from the base seed, and
    every shard must draw the same one for trial I wherever it runs."""
    from harness.run.shards import Shard

    if text is None:
        return None
    try:
        part = Shard.parse(text)
    except ValueError as exc:
        raise UsageError(f"--shard {exc}") from None
    if seed is None:
        raise UsageError(
            f"--shard {text} needs --seed N, the same in every shard, so that trial I of a "
            "scenario draws the same seed whichever shard runs it (in CI: --seed "
            "$GITHUB_RUN_ID)"
        )
    return part


def _shard_line(scenarios: Sequence[Scenario], part: Shard) -> str:
    from harness.run.shards import load_of, owned

    mine = owned(scenarios, part)
    every = owned(scenarios, None)
    count = sum(len(v) for v in mine.values())
    total = sum(len(v) for v in every.values())
    return (
        f"shard {part}: {count} of {total} trial(s), about {load_of(scenarios, mine):.0f} s of"
        f" {load_of(scenarios, every):.0f} s expected"
    )


# --------------------------------------------------------------------------- schedules
#
# ``run --dry-run`` prints what each trial would do; every failed trial of a run is given
# the commands that rerun it; ``replay`` reruns a journal's trial with the schedule it
# stored, ``shrink`` (and ``run --shrink``) looks for the smallest schedule that still fails.


def _dry_run(scenarios: Sequence[Scenario], seed: int | None, console: Console) -> None:
    """Every trial's schedule, as the run with this seed would plan it; nothing starts."""
    import random

    from harness.run.runner import trial_seed
    from harness.run.system import host_refusals
    from harness.scenario.loader import missing_requirements
    from harness.schedule.describe import describe
    from harness.schedule.plan import plan

    base = seed if seed is not None else random.randrange(2**31)
    console.print(escape.console(f"dry run, base seed {base}: nothing is started", style="dim"))
    trials = 0
    for scenario in scenarios:
        missing = missing_requirements(scenario)
        refused = host_refusals(scenario)
        if missing or refused:
            why = "requires " + ", ".join(missing) if missing else "; ".join(refused)
            console.print(
                escape.console(f"{scenario.name}: would be skipped ({why})", style="yellow")
            )
        for index in range(scenario.repeat):
            trials += 1
            lines = describe(
                scenario.name, index, plan(scenario, trial_seed(base, scenario.name, index))
            )
            for line in lines:
                console.print(escape.console(line), soft_wrap=True)
    console.print(
        f"{trials} trial(s) of {len(scenarios)} scenario(s) planned; run them with --seed {base}"
    )

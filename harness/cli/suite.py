"""Commands about a suite of scenario files: ``validate``, ``list`` and ``matrix``."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import typer

from harness.cli.app import (
    PATHS,
    SELECT,
    VAR,
    ExitCode,
    HelpCommand,
    app,
    err,
    examples,
    fail,
    load_scenarios,
    make_console,
    parse_vars,
    user_errors,
)
from harness.errors import UsageError
from harness.report import escape
from harness.spec.verdict import Verdict


@app.command(
    cls=HelpCommand,
    epilog=examples("chaos validate scenarios/", "chaos validate mine.yaml --var port=8080"),
)
def validate(
    paths: Annotated[list[Path], PATHS],
    var: Annotated[list[str], VAR] = [],  # noqa: B006
) -> None:
    """Check scenario files without running anything, as run would before it starts.

    Lists every problem of every file (exit 2 if any file is invalid).
    """
    from harness.run.catalog import KINDS
    from harness.scenario.loader import discover, problems_of_all

    with user_errors():
        files = discover(paths)
        variables = parse_vars(var)
        found = problems_of_all(files, variables, kinds=KINDS)
        for errors in found.values():
            for error in errors:
                err.print(escape.console(("invalid:", "bold red"), f" {error}"), soft_wrap=True)
        bad = sum(1 for errors in found.values() if errors)
        make_console().print(f"{len(files) - bad} of {len(files)} scenario file(s) valid")
        if bad:
            raise typer.Exit(int(ExitCode.USAGE))


@app.command(
    "list",
    cls=HelpCommand,
    epilog=examples("chaos list scenarios/", "chaos list scenarios/ -k kill"),
)
def list_(
    paths: Annotated[list[Path], PATHS],
    select: Annotated[str | None, SELECT] = None,
) -> None:
    """List scenarios: name, tags, trials, faults and invariants."""
    from rich.table import Table

    from harness.scenario.loader import missing_requirements

    with user_errors():
        scenarios = load_scenarios(paths, {}, select)
        table = Table(box=None, header_style="bold", padding=(0, 2, 0, 0))
        table.add_column("scenario", no_wrap=True)
        for column in ("tags", "trials", "faults", "invariants"):
            table.add_column(column)
        for s in scenarios:
            missing = missing_requirements(s)
            skipped = f" (skipped: needs {', '.join(missing)})" if missing else ""
            table.add_row(
                escape.console(s.name, (skipped, "dim")),
                escape.console(", ".join(s.tags)),
                str(s.repeat),
                escape.console(_counted(c.kind for f in s.faults for c in f.choices)),
                escape.console(_counted(i.kind for i in s.invariants)),
            )
        make_console().print(table)


def _counted(kinds: Iterable[str]) -> str:
    """``kill, kill, freeze`` → ``kill x2, freeze``: compact enough for one line."""
    counts = Counter(kinds)
    return ", ".join(f"{k} x{n}" if n > 1 else k for k, n in counts.items()) or "-"


@app.command(
    cls=HelpCommand,
    epilog=examples(
        "chaos matrix scenarios/ --axis bugs=,no-restart,slow-restart --jobs 2",
        "chaos matrix mine.yaml --axis version=1.2,1.3 --md matrix.md",
    ),
)
def matrix(
    paths: Annotated[list[Path], PATHS],
    axis: Annotated[
        str,
        typer.Option(
            metavar="VAR=BASE,V1,...",
            help="The first value is the baseline that must pass; every other value must be "
            "caught by a failed invariant. 'bugs=,no-restart' starts with ''.",
        ),
    ],
    select: Annotated[str | None, SELECT] = None,
    jobs: Annotated[int, typer.Option(min=1, metavar="N", help="Trials in parallel.")] = 1,
    seed: Annotated[int | None, typer.Option(metavar="N", help="Seed for random choices.")] = None,
    md: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Write the matrix as Markdown.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the matrix.")] = False,
) -> None:
    """Run the scenarios once per value of a var and show which scenario catches which."""
    from harness.report.console import RunProgress
    from harness.run.matrix import run_matrix, to_markdown
    from harness.run.runner import RunOptions

    with user_errors():
        name, sep, raw = axis.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--axis expects VAR=BASE,V1,V2..., got {axis!r}")
        values = [v.strip() for v in raw.split(",")]
        scenarios = load_scenarios(paths, {}, select)
        if not scenarios:
            fail(f"-k {select!r} selected no scenario", ExitCode.USAGE)
        console = make_console()
        with RunProgress(make_console(quiet)) as progress:
            result = run_matrix(
                scenarios,
                name.strip(),
                values,
                RunOptions(seed=seed, jobs=jobs, argv=sys.argv[1:]),
                progress,
            )
        text = to_markdown(result)
        console.print(escape.console(text))
        if md is not None:
            md.parent.mkdir(parents=True, exist_ok=True)
            md.write_text(text, encoding="utf-8")
        base, others = values[0], values[1:]
        baseline_ok = all(
            c.verdict in (Verdict.PASS, Verdict.SKIP) for c in result.column(base).values()
        )
        missed = [v for v in others if not result.caught_by(v)]
        if not baseline_ok:
            console.print(
                escape.console(f"baseline {name}={base!r} did not pass every scenario", style="red")
            )
        for value in missed:
            console.print(
                escape.console(f"{name}={value!r} was caught by no scenario", style="red")
            )
    raise typer.Exit(int(ExitCode.OK if baseline_ok and not missed else ExitCode.FAILED))

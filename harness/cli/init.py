"""``chaos init -- COMMAND...``: watch a system start under the harness and write a
commented starting scenario for it (``harness.run.survey`` watches, ``run.draft`` writes)."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

from harness.cli.app import (
    HelpCommand,
    app,
    err,
    examples,
    terminate_as_interrupt,
    user_errors,
)
from harness.errors import SystemUnderTestError, UsageError
from harness.report import escape


@app.command(
    "init",
    cls=HelpCommand,
    epilog=examples(
        "chaos init -- python -m myapp --port 8080",
        "chaos init --out app.yaml --watch 10s -- ./server --workers 3",
    ),
)
def init(
    command: Annotated[
        list[str], typer.Argument(metavar="-- COMMAND...", help="The system's command line.")
    ],
    out: Annotated[
        str | None,
        typer.Option(metavar="FILE", help="Where to write it; - for stdout (./NAME.yaml)."),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="The scenario's name (the command's program)."),
    ] = None,
    watch: Annotated[
        str, typer.Option(metavar="DURATION", help="How long to watch it at most.")
    ] = "5s",
    quiet_for: Annotated[
        str,
        typer.Option(
            "--quiet",
            metavar="DURATION",
            help="Stop once it is up and nothing new happened this long (0: never).",
        ),
    ] = "1s",
    force: Annotated[bool, typer.Option("--force", help="Overwrite FILE if it exists.")] = False,
) -> None:
    """Watch COMMAND start under the harness; write a commented starting scenario.

    Roles, readiness, a workload, faults and invariants, from the processes and ports it
    saw. The command is stopped and cleaned up as a trial's system is. Exit 0: written.
    """
    from harness.run.draft import draft, program_of
    from harness.run.survey import survey
    from harness.spec.units import parse_duration

    with user_errors():
        try:
            watch_s, quiet_s = parse_duration(watch), parse_duration(quiet_for)
        except ValueError as exc:
            raise UsageError(f"--watch/--quiet: {exc}") from None
        scenario_name = name or program_of(command)[0].replace("_", "-")
        dest = Path(f"{scenario_name}.yaml") if out is None else None if out == "-" else Path(out)
        if dest is not None and dest.exists() and not force:
            raise UsageError(f"{dest} exists; give --force to overwrite it, or another --out")
        signal.signal(signal.SIGTERM, terminate_as_interrupt)
        program = command[0]
        if "/" in program and not os.path.isabs(program):  # it runs in a fresh run folder
            command = [os.path.abspath(program), *command[1:]]
        try:
            seen = survey(command, watch=watch_s, quiet=quiet_s)
        except SystemUnderTestError as exc:
            raise UsageError(f"the command could not be started: {exc}") from None
        text = draft(seen, name=scenario_name)
        if dest is None:
            sys.stdout.write(text)
            return
        dest.write_text(text, encoding="utf-8")
        roles = len([p for p in seen.processes if not p.root])
        err.print(
            escape.console(
                f"wrote {dest}: {len(seen.processes)} process(es) seen ({roles} children),"
                f" {len({e.port for e in seen.ports})} port(s); check it with"
                f" `chaos validate {dest}`, then `chaos run {dest}`"
            ),
            soft_wrap=True,
        )

"""The host and the harness itself: ``doctor``, ``testbed``, ``version``."""

from __future__ import annotations

import typer

from harness.cli.app import (
    ExitCode,
    HelpCommand,
    app,
    examples,
    fail,
    make_console,
    user_errors,
)
from harness.report import escape
from harness.spec.version import __version__


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def testbed(ctx: typer.Context) -> None:
    """Run the reference system (the testbed) by hand; --help for its options."""
    from harness.testbed.cli import main as testbed_main

    raise typer.Exit(testbed_main(list(ctx.args)))


@app.command(cls=HelpCommand, epilog=examples("chaos version"))
def version() -> None:
    """Print the harness version."""
    make_console().print(f"chaos {__version__}")


@app.command(cls=HelpCommand, epilog=examples("chaos doctor"))
def doctor() -> None:
    """Print what this host allows: containment, process events, pidfds (exit 3 if unusable)."""
    from harness.faults.families import families
    from harness.faults.registry import FAULTS
    from harness.system import host

    with user_errors():
        found = host.report()
    console = make_console()

    def row(name: str, ok: bool, text: str) -> None:
        mark = "[green]yes[/]" if ok else "[yellow]no[/] "
        console.print(f"{name:<16}{mark}  {text}", highlight=False, soft_wrap=True)

    row("cgroup v2", found.cgroup.available, found.cgroup.detail)
    row("process events", found.netlink.available, found.netlink.detail)
    row("pidfd", found.pidfd.available, found.pidfd.detail)
    switches = ", ".join(f"{k}={v}" for k, v in found.switches.items())
    console.print(f"a run uses: {host.summary(found.containment, found.events)}", soft_wrap=True)
    console.print(f"switches: {switches} (auto, or force: cgroup|marker, netlink|scan)")
    console.print("fault families:")
    for family in families(FAULTS.get(name) for name in FAULTS.names()):
        mark = ("yes", "green") if family.available else ("no ", "yellow")
        line = escape.console(f"  {family.name:<14}", mark, f"  {family.text()}")
        console.print(line, highlight=False, soft_wrap=True)
    if not found.runnable:
        fail("this host cannot run trials: " + found.pidfd.detail, ExitCode.HARNESS)

"""The ``chaos`` Typer app and what every command shares: the exit-code contract, the
mapping of error families to it, consoles, scenario loading, help that reads as written."""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import IntEnum
from pathlib import Path
from types import FrameType
from typing import NoReturn

import typer
from rich.console import Console
from typer._click import Context as ClickContext
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from harness.errors import HostError, ScenarioError, UsageError
from harness.report import escape
from harness.results.model import RunResult
from harness.scenario.model import Scenario
from harness.spec.verdict import Outcome


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1
    USAGE = 2
    HARNESS = 3


COMMAND_ORDER = (
    "run", "validate", "list", "init", "report", "compare", "trend", "matrix", "replay", "shrink",
    "doctor", "testbed", "version",
)  # fmt: skip
"""How ``chaos --help`` lists the commands: by use, not by the module that defines them."""


class _HelpGroup(TyperGroup):
    """The ``chaos`` group: its ``--help`` flag shown without a type, like every command's;
    its commands in ``COMMAND_ORDER`` (any other after them)."""

    def list_commands(self, ctx: ClickContext) -> list[str]:
        rank = {name: i for i, name in enumerate(COMMAND_ORDER)}
        return sorted(super().list_commands(ctx), key=lambda n: rank.get(n, len(rank)))

    def get_help_option(self, ctx: ClickContext) -> TyperOption | None:
        option = super().get_help_option(ctx)
        if isinstance(option, TyperOption) and option.metavar is None:
            option.metavar = ""
        return option


app = typer.Typer(
    name="chaos",
    cls=_HelpGroup,
    help="Run a managed-process system under real faults and judge its recovery.",
    epilog="\b\nExamples:\n  chaos run scenarios/\n  chaos report reports/journal.json --html"
    "\n  chaos compare base.json head.json\n  chaos COMMAND --help",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def make_console(quiet: bool = False, *, stderr: bool = False) -> Console:
    """Rich on a terminal; plain, 120 columns wide in CI logs (unless COLUMNS says).

    The same rule for stdout and stderr, so an error line in a CI log is not wrapped at
    rich's 80-column default for a stream that is not a terminal.
    """
    stream = sys.stderr if stderr else sys.stdout
    width = None
    if not stream.isatty() and "COLUMNS" not in os.environ:
        width = 120
    return Console(quiet=quiet, highlight=False, width=width, stderr=stderr)


err = make_console(stderr=True)


def fail(message: str, code: ExitCode) -> NoReturn:
    err.print(escape.console(("error:", "bold red"), f" {message}"), soft_wrap=True)
    raise typer.Exit(int(code))


@contextmanager
def user_errors() -> Iterator[None]:
    """Map every error family to its exit code, with one readable line (no traceback)."""
    try:
        yield
    except typer.Exit:
        raise
    except ScenarioError as exc:
        fail(str(exc), ExitCode.USAGE)
    except UsageError as exc:
        fail(str(exc), ExitCode.USAGE)
    except HostError as exc:
        fail(f"host problem: {exc}", ExitCode.HARNESS)
    except OSError as exc:
        if exc.filename:  # a path the user gave (--out, --html...) cannot be written or read
            fail(f"{exc.filename}: {exc.strerror or exc}", ExitCode.USAGE)
        fail(f"host problem: {exc}", ExitCode.HARNESS)
    except KeyboardInterrupt:
        fail("interrupted; processes of the system were stopped", ExitCode.HARNESS)
    except Exception as exc:
        import traceback

        traceback.print_exc()
        fail(
            f"internal error: {type(exc).__name__}: {exc}. This is a bug in chaos; please "
            "report it with the traceback above.",
            ExitCode.HARNESS,
        )


def parse_vars(items: list[str]) -> dict[str, str]:
    from harness.scenario.loader import parse_var

    return dict(parse_var(item) for item in items)


def load_scenarios(
    paths: list[Path], variables: dict[str, str], select: str | None, repeat: int | None = None
) -> list[Scenario]:
    from harness.run.catalog import load_all
    from harness.scenario.loader import select_scenarios, with_overrides

    scenarios = load_all(paths, variables)
    if select:
        scenarios = select_scenarios(scenarios, select)
    if repeat is not None:
        scenarios = [with_overrides(s, repeat=repeat) for s in scenarios]
    return scenarios


def exit_for(run: RunResult) -> ExitCode:
    """3 on a harness error, 1 on a failure or an unexpected pass (``xpass``), else 0."""
    outcomes = run.outcomes()
    if Outcome.ERROR in outcomes:
        return ExitCode.HARNESS
    if Outcome.FAIL in outcomes or Outcome.XPASS in outcomes:
        return ExitCode.FAILED
    return ExitCode.OK


def terminate_as_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


# --------------------------------------------------------------------------- help
#
# Typer shows an argument's Python type (``<list[Path]>``) and wraps its name in braces in
# the usage line (``{paths}...``), and gives a flag the type ``<bool>``. A person writes
# ``PATH...`` and nothing for a flag: each command's parameters name their metavar, and this
# class shows it as written.


class _MetavarArgument(TyperArgument):
    """An argument shown by its metavar alone, in the usage line and in the help."""

    def display_type_rich(self, ctx: ClickContext) -> str | None:
        return None

    def _usage_display_name(self) -> str:
        name = self.metavar or self.display_name_raw
        return name if self.required else f"[{name}]"


class HelpCommand(TyperCommand):
    """A command whose help reads as written: metavars as given, no type for a flag."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for param in self.params:
            _plain_help(param)
        if self.help:
            self.help = reflowed(self.help)

    def get_help_option(self, ctx: ClickContext) -> TyperOption | None:
        option = super().get_help_option(ctx)
        if option is not None:
            _plain_help(option)
        return option


def reflowed(doc: str) -> str:
    """A docstring as paragraphs: Typer keeps its single line breaks, so a body wrapped at
    92 columns in the source broke mid-sentence on an 80-column terminal. A line that
    starts a list item (``- ``) or is indented keeps its break; ``\b`` blocks stay as is."""
    paragraphs = []
    for paragraph in inspect.cleandoc(doc).split("\n\n"):
        if paragraph.startswith("\b"):
            paragraphs.append(paragraph)
            continue
        lines = paragraph.split("\n")
        joined = lines[0]
        for line in lines[1:]:
            kept = line.startswith(("- ", " "))
            joined += ("\n" if kept else " ") + line
        paragraphs.append(joined)
    return "\n\n".join(paragraphs)


def _plain_help(param: object) -> None:
    if isinstance(param, TyperArgument) and param.metavar:
        param.__class__ = _MetavarArgument
    elif isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
        param.metavar = ""


def examples(*lines: str) -> str:
    """A command's epilog: example command lines, kept as written (``\b``)."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


# --------------------------------------------------------------------------- commands


PATHS = typer.Argument(metavar="PATH...", help="Scenario files, or folders to search.")
VAR = typer.Option("--var", metavar="K=V", help="Set a var of every scenario (repeatable).")
SELECT = typer.Option(
    "--select", "-k", metavar="EXPR", help="Only scenarios whose name or tags match EXPR."
)


def warn(message: str) -> None:
    """A problem that does not stop the run (the journal cannot be written just now)."""
    err.print(escape.console(("warning:", "bold yellow"), f" {message}"), soft_wrap=True)

"""The report flags of ``run`` and ``report``: one ``--FLAG [FILE]`` per registered reporter,
and writing the reports they ask for."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from typer._click import Context as ClickContext
from typer._click.parser import _Option, _OptionParser, _ParsingState

from harness.cli.app import (
    ExitCode,
    HelpCommand,
    err,
    exit_for,
    fail,
)
from harness.report import escape
from harness.report.registry import Reporter, reporters
from harness.results.files import WriteFailure
from harness.results.model import RunResult

# --------------------------------------------------------------------------- report flags
#
# One ``--FLAG [FILE]`` option of ``run`` and ``report`` per registered reporter. Typer
# builds options from ``inspect.signature``, so ``with_report_flags`` puts them into the
# command's signature in place of its ``**reports``. Their FILE is optional, which Typer
# does not offer (it ignores click's ``is_flag=False, flag_value=``), so the command's parser
# lets a report flag that is last, or followed by another option, stand bare.

_BARE = ""
"""The value of a report flag given without a FILE: the reporter's file inside ``--out``."""

F = TypeVar("F", bound=Callable[..., None])


def _report_dest(reporter: Reporter) -> str:
    return f"report_{reporter.name}"


def _check_report_file(param: typer.CallbackParam, value: str | None) -> str | None:
    """Refuse a FILE that is a path to run, taken by the flag before it (``--json scenarios/``):
    a folder, or an existing scenario file that would be overwritten."""
    if not value:
        return value
    path = Path(value)
    is_scenario = path.suffix in (".yaml", ".yml") and path.is_file()
    if path.is_dir() or is_scenario:
        flag = param.opts[0]
        what = "a folder" if path.is_dir() else "a scenario file"
        fail(
            f"{flag} {value}: that is {what}, not a report file; write {flag} FILE, or put "
            f"a bare {flag} after the paths",
            ExitCode.USAGE,
        )
    return value


def with_report_flags(command: F) -> F:
    """Give ``command`` (which takes ``**reports``) one option per registered reporter."""
    signature = inspect.signature(command, eval_str=True)
    kept = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
    flags = [
        inspect.Parameter(
            _report_dest(reporter),
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[
                str | None,
                typer.Option(
                    reporter.flag,
                    metavar="[FILE]",
                    help=f"Write {reporter.help} to FILE (bare: {reporter.filename} in --out).",
                    callback=_check_report_file,
                    rich_help_panel="Reports",
                ),
            ],
        )
        for reporter in reporters()
    ]
    command.__signature__ = signature.replace(parameters=[*kept, *flags])  # type: ignore[attr-defined]
    return command


class _ReportFlagParser(_OptionParser):
    """Click's option parser, except that a report flag's FILE may be left out."""

    def __init__(self, ctx: ClickContext, optional: frozenset[str]) -> None:
        super().__init__(ctx)
        self._optional = optional

    def _get_value_from_state(
        self, option_name: str, option: _Option, state: _ParsingState
    ) -> str | Sequence[str]:
        if option.dest in self._optional:
            following = state.rargs[0] if state.rargs else None
            if following is None or (following[:1] in self._opt_prefixes and following != "-"):
                return _BARE
        return super()._get_value_from_state(option_name, option, state)


class ReportsCommand(HelpCommand):
    """A command with report flags (see ``with_report_flags``)."""

    def make_parser(self, ctx: ClickContext) -> _OptionParser:
        parser = _ReportFlagParser(ctx, frozenset(_report_dest(r) for r in reporters()))
        for param in self.get_params(ctx):
            param.add_to_parser(parser, ctx)
        return parser


def asked(values: Mapping[str, str | None], out: Path) -> dict[str, Path]:
    """Reporter name → file, for each report flag given (bare: its file inside ``out``)."""
    asked: dict[str, Path] = {}
    for reporter in reporters():
        value = values.get(_report_dest(reporter))
        if value is not None:
            asked[reporter.name] = out / reporter.filename if value == _BARE else Path(value)
    return asked


def write_all(run: RunResult, targets: Mapping[str, Path]) -> tuple[list[Path], list[WriteFailure]]:
    """Write every report of ``targets``; each one that failed is named with its OS error."""
    from harness.report.writers import ReportsNotWritten, write_reports

    try:
        return write_reports(run, targets), []
    except ReportsNotWritten as exc:
        for failure in exc.failures:
            err.print(
                escape.console(("error:", "bold red"), f" could not write {failure}"),
                soft_wrap=True,
            )
        return exc.written, exc.failures


def exit_after_reports(run: RunResult, failures: Sequence[WriteFailure]) -> ExitCode:
    """The verdicts' exit code; 3 when a report is missing, with a line saying what the
    trials did (they ran and were judged: only a file is missing)."""
    if not failures:
        return exit_for(run)
    files = ", ".join(str(f.path) for f in failures)
    counts = run.summary()
    if counts["trials"] == 0:
        verdict = "no trial ran"
    elif counts["passed"] == counts["trials"]:
        verdict = "the trials passed" if counts["trials"] > 1 else "the trial passed"
    else:
        verdict = (
            f"{counts['trials'] - counts['passed']} of {counts['trials']} trial(s) did not pass"
        )
    err.print(
        escape.console(
            ("error:", "bold red"),
            f" {verdict} (verdicts above), but {len(failures)} report file(s)"
            f" could not be written: {files}",
        ),
        soft_wrap=True,
    )
    return ExitCode.HARNESS

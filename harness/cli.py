"""The ``chaos`` command line. The one place that prints and maps errors to exit codes.

Every text that comes from outside (paths, names, scenario content, error messages) is
printed through ``harness.report.escape``: never read as rich markup or emoji codes.

Exit codes (the contract): 0 every invariant held; 1 an invariant failed or the system did
not become ready (or ``compare`` found a regression); 2 bad usage or an invalid scenario
(nothing was started); 3 the harness itself failed (host problem, or our bug).
"""

from __future__ import annotations

import inspect
import os
import signal
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from enum import IntEnum
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer
from rich.console import Console
from typer._click import Context as ClickContext
from typer._click.parser import _Option, _OptionParser, _ParsingState
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from harness.errors import HostError, JournalError, ScenarioError, UsageError
from harness.report import escape
from harness.report.registry import JOURNAL, Reporter, default_targets, reporters
from harness.results.files import WriteFailure
from harness.results.model import RunResult, TrialResult
from harness.scenario.model import Scenario
from harness.spec.verdict import Outcome, Verdict
from harness.spec.version import __version__

if TYPE_CHECKING:
    from harness.run.rerun import Target
    from harness.run.shards import Shard
    from harness.schedule.shrink import Budget


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1
    USAGE = 2
    HARNESS = 3


class _HelpGroup(TyperGroup):
    """The ``chaos`` group: its ``--help`` flag shown without a type, like every command's."""

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


def _console(quiet: bool = False, *, stderr: bool = False) -> Console:
    """Rich on a terminal; plain, 120 columns wide in CI logs (unless COLUMNS says).

    The same rule for stdout and stderr, so an error line in a CI log is not wrapped at
    rich's 80-column default for a stream that is not a terminal.
    """
    stream = sys.stderr if stderr else sys.stdout
    width = None
    if not stream.isatty() and "COLUMNS" not in os.environ:
        width = 120
    return Console(quiet=quiet, highlight=False, width=width, stderr=stderr)


_err = _console(stderr=True)


def _fail(message: str, code: ExitCode) -> NoReturn:
    _err.print(escape.console(("error:", "bold red"), f" {message}"), soft_wrap=True)
    raise typer.Exit(int(code))


@contextmanager
def _errors() -> Iterator[None]:
    """Map every error family to its exit code, with one readable line (no traceback)."""
    try:
        yield
    except typer.Exit:
        raise
    except ScenarioError as exc:
        _fail(str(exc), ExitCode.USAGE)
    except UsageError as exc:
        _fail(str(exc), ExitCode.USAGE)
    except HostError as exc:
        _fail(f"host problem: {exc}", ExitCode.HARNESS)
    except OSError as exc:
        if exc.filename:  # a path the user gave (--out, --html...) cannot be written or read
            _fail(f"{exc.filename}: {exc.strerror or exc}", ExitCode.USAGE)
        _fail(f"host problem: {exc}", ExitCode.HARNESS)
    except KeyboardInterrupt:
        _fail("interrupted; processes of the system were stopped", ExitCode.HARNESS)
    except Exception as exc:
        import traceback

        traceback.print_exc()
        _fail(
            f"internal error: {type(exc).__name__}: {exc}. This is a bug in chaos; please "
            "report it with the traceback above.",
            ExitCode.HARNESS,
        )


def _parse_vars(items: list[str]) -> dict[str, str]:
    from harness.scenario.loader import parse_var

    return dict(parse_var(item) for item in items)


def _load(
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


def _exit_for(run: RunResult) -> ExitCode:
    """3 on a harness error, 1 on a failure or an unexpected pass (``xpass``), else 0."""
    outcomes = run.outcomes()
    if Outcome.ERROR in outcomes:
        return ExitCode.HARNESS
    if Outcome.FAIL in outcomes or Outcome.XPASS in outcomes:
        return ExitCode.FAILED
    return ExitCode.OK


def _terminate_as_interrupt(signum: int, frame: FrameType | None) -> None:
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


class _HelpCommand(TyperCommand):
    """A command whose help reads as written: metavars as given, no type for a flag."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for param in self.params:
            _plain_help(param)

    def get_help_option(self, ctx: ClickContext) -> TyperOption | None:
        option = super().get_help_option(ctx)
        if option is not None:
            _plain_help(option)
        return option


def _plain_help(param: object) -> None:
    if isinstance(param, TyperArgument) and param.metavar:
        param.__class__ = _MetavarArgument
    elif isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
        param.metavar = ""


def _examples(*lines: str) -> str:
    """A command's epilog: example command lines, kept as written (``\b``)."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


# --------------------------------------------------------------------------- report flags
#
# One ``--FLAG [FILE]`` option of ``run`` and ``report`` per registered reporter. Typer
# builds options from ``inspect.signature``, so ``_with_report_flags`` puts them into the
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
        _fail(
            f"{flag} {value}: that is {what}, not a report file; write {flag} FILE, or put "
            f"a bare {flag} after the paths",
            ExitCode.USAGE,
        )
    return value


def _with_report_flags(command: F) -> F:
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


class _ReportsCommand(_HelpCommand):
    """A command with report flags (see ``_with_report_flags``)."""

    def make_parser(self, ctx: ClickContext) -> _OptionParser:
        parser = _ReportFlagParser(ctx, frozenset(_report_dest(r) for r in reporters()))
        for param in self.get_params(ctx):
            param.add_to_parser(parser, ctx)
        return parser


def _asked(values: Mapping[str, str | None], out: Path) -> dict[str, Path]:
    """Reporter name → file, for each report flag given (bare: its file inside ``out``)."""
    asked: dict[str, Path] = {}
    for reporter in reporters():
        value = values.get(_report_dest(reporter))
        if value is not None:
            asked[reporter.name] = out / reporter.filename if value == _BARE else Path(value)
    return asked


# --------------------------------------------------------------------------- commands


_PATHS = typer.Argument(metavar="PATH...", help="Scenario files, or folders to search.")
_VAR = typer.Option("--var", metavar="K=V", help="Set a var of every scenario (repeatable).")
_SELECT = typer.Option(
    "--select", "-k", metavar="EXPR", help="Only scenarios whose name or tags match EXPR."
)


@app.command(
    cls=_ReportsCommand,
    epilog=_examples(
        "chaos run scenarios/",
        "chaos run scenarios/ --repeat 5 --jobs 2 -k 'sigkill and not module'",
        "chaos run backend-sigkill.yaml --var bugs=slow-restart --html out/report.html",
    ),
)
@_with_report_flags
def run(
    paths: Annotated[list[Path], _PATHS],
    repeat: Annotated[
        int | None, typer.Option(min=1, metavar="N", help="Trials per scenario.")
    ] = None,
    var: Annotated[list[str], _VAR] = [],  # noqa: B006
    select: Annotated[str | None, _SELECT] = None,
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

    with _errors():
        part = _shard(shard, seed)
        scenarios = _load(paths, _parse_vars(var), select, repeat)
        if not scenarios:
            _fail(f"-k {select!r} selected no scenario", ExitCode.USAGE)
        if dry_run:
            _dry_run(scenarios, seed, _console(quiet))
            raise typer.Exit(int(ExitCode.OK))
        targets = {**default_targets(out), **_asked(reports, out)}
        journal_path = targets[JOURNAL]
        console = _console(quiet)
        if part is not None:
            console.print(escape.console(_shard_line(scenarios, part), style="dim"))
        signal.signal(signal.SIGTERM, _terminate_as_interrupt)
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
                    on_journal=_warn,
                    shard=part,
                ),
                observer=progress,
            )
            result = runner.execute()
        if quiet:
            render_result_line(result, _console())
        else:
            render_summary(result, console)
            _print_reruns(result, journal_path, console)
        if runner.journal_failure is None:  # already current: the runner wrote it last
            del targets[JOURNAL]
        written, failures = _write(result, targets)
        if runner.journal_failure is None:
            written.insert(0, journal_path)
        if not quiet:
            console.print(escape.console("reports: " + ", ".join(map(str, written)), style="dim"))
        if shrink_failures:
            _shrink_failures(result, out, journal_path, console)
    raise typer.Exit(int(_exit_after_reports(result, failures)))


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


def _warn(message: str) -> None:
    """A problem that does not stop the run (the journal cannot be written just now)."""
    _err.print(escape.console(("warning:", "bold yellow"), f" {message}"), soft_wrap=True)


def _write(run: RunResult, targets: Mapping[str, Path]) -> tuple[list[Path], list[WriteFailure]]:
    """Write every report of ``targets``; each one that failed is named with its OS error."""
    from harness.report.writers import ReportsNotWritten, write_reports

    try:
        return write_reports(run, targets), []
    except ReportsNotWritten as exc:
        for failure in exc.failures:
            _err.print(
                escape.console(("error:", "bold red"), f" could not write {failure}"),
                soft_wrap=True,
            )
        return exc.written, exc.failures


def _exit_after_reports(run: RunResult, failures: Sequence[WriteFailure]) -> ExitCode:
    """The verdicts' exit code; 3 when a report is missing, with a line saying what the
    trials did (they ran and were judged: only a file is missing)."""
    if not failures:
        return _exit_for(run)
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
    _err.print(
        escape.console(
            ("error:", "bold red"),
            f" {verdict} (verdicts above), but {len(failures)} report file(s)"
            f" could not be written: {files}",
        ),
        soft_wrap=True,
    )
    return ExitCode.HARNESS


@app.command(
    cls=_HelpCommand,
    epilog=_examples("chaos validate scenarios/", "chaos validate mine.yaml --var port=8080"),
)
def validate(
    paths: Annotated[list[Path], _PATHS],
    var: Annotated[list[str], _VAR] = [],  # noqa: B006
) -> None:
    """Check scenario files without running anything, as run would before it starts.

    Lists every problem of every file (exit 2 if any file is invalid).
    """
    from harness.run.catalog import KINDS
    from harness.scenario.loader import discover, problems_of_all

    with _errors():
        files = discover(paths)
        variables = _parse_vars(var)
        found = problems_of_all(files, variables, kinds=KINDS)
        for errors in found.values():
            for error in errors:
                _err.print(escape.console(("invalid:", "bold red"), f" {error}"), soft_wrap=True)
        bad = sum(1 for errors in found.values() if errors)
        _console().print(f"{len(files) - bad} of {len(files)} scenario file(s) valid")
        if bad:
            raise typer.Exit(int(ExitCode.USAGE))


@app.command(
    "list",
    cls=_HelpCommand,
    epilog=_examples("chaos list scenarios/", "chaos list scenarios/ -k kill"),
)
def list_(
    paths: Annotated[list[Path], _PATHS],
    select: Annotated[str | None, _SELECT] = None,
) -> None:
    """List scenarios: name, tags, trials, faults and invariants."""
    from rich.table import Table

    from harness.scenario.loader import missing_requirements

    with _errors():
        scenarios = _load(paths, {}, select)
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
        _console().print(table)


def _counted(kinds: Iterable[str]) -> str:
    """``kill, kill, freeze`` → ``kill x2, freeze``: compact enough for one line."""
    counts = Counter(kinds)
    return ", ".join(f"{k} x{n}" if n > 1 else k for k, n in counts.items()) or "-"


@app.command(
    cls=_ReportsCommand,
    epilog=_examples(
        "chaos report reports/journal.json --html",
        "chaos report reports/journal.json --md summary.md --junit junit.xml",
        "chaos report reports/journal.json --scenario stricter.yaml --html rejudged.html",
    ),
)
@_with_report_flags
def report(
    journal_files: Annotated[
        list[Path],
        typer.Argument(
            metavar="JOURNAL...",
            help="A journal.json; several (shards, hosts, reruns) are merged into one.",
        ),
    ],
    scenario: Annotated[
        list[Path],
        typer.Option(
            "--scenario",
            metavar="FILE",
            help="Re-judge trials with this scenario file's invariants.",
        ),
    ] = [],  # noqa: B006
    var: Annotated[list[str], _VAR] = [],  # noqa: B006
    out: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR",
            help="Folder for bare report flags (default: the journal's folder; for several, "
            "reports).",
        ),
    ] = None,
    allow_mixed: Annotated[
        bool,
        typer.Option(help="Merge journals even if they ran different versions of a scenario."),
    ] = False,
    **reports: str | None,
) -> None:
    """Re-render (and optionally re-judge) journals without re-running anything.

    Several journals are merged into one (the same trial in two: the journal that started
    last wins). Only the reports asked for are written.
    """
    from harness.report.console import render_summary, render_trial_lines
    from harness.report.writers import rejudge

    with _errors():
        if out is None:
            out = journal_files[0].parent if len(journal_files) == 1 else Path("reports")
        targets = _asked(reports, out)
        for journal_file in journal_files:
            _refuse_overwriting(journal_file, targets)
        try:
            result = _read_merged(journal_files, allow_mixed)
        except JournalError as exc:
            raise UsageError(str(exc)) from None
        title = "chaos report " + " ".join(map(str, journal_files))
        if scenario:
            scenarios = _load(scenario, _parse_vars(var), None)
            result = rejudge(result, scenarios)
            title += " (re-judged with " + ", ".join(map(str, scenario)) + ")"
        render_trial_lines(result, _console())
        render_summary(result, _console(), title=title)
        written, failures = _write(result, targets)
        for path in written:
            _console().print(escape.console(f"wrote {path}", style="dim"))
    raise typer.Exit(int(_exit_after_reports(result, failures)))


def _read_merged(files: Sequence[Path], allow_mixed: bool) -> RunResult:
    """One journal as it is; several merged (``harness.results.merge``), each thing worth
    knowing about the merge said on stderr."""
    from harness.results import journal
    from harness.results.merge import MixedVersions, merge

    if len(files) == 1:
        return journal.read(files[0])
    distinct = list(dict.fromkeys(files))
    if len(distinct) < len(files):
        _warn("a journal was given more than once; it is read once")
    try:
        merged = merge([(str(f), journal.read(f)) for f in distinct], allow_mixed=allow_mixed)
    except MixedVersions as exc:
        raise UsageError(
            f"cannot merge journals of {exc}. Run every shard from the same files and --var"
            " values, or pass --allow-mixed to merge them anyway"
        ) from None
    for note in merged.notes():
        _warn(note)
    merged.run.argv = sys.argv[1:]
    return merged.run


def _refuse_overwriting(journal_file: Path, targets: Mapping[str, Path]) -> None:
    """``chaos report`` never replaces the journal it reads (a bare ``--json`` next to it)."""
    for reporter in reporters():
        path = targets.get(reporter.name)
        if path is not None and path.resolve() == journal_file.resolve():
            raise UsageError(
                f"{reporter.flag} would overwrite {journal_file}, the journal being read; "
                f"write {reporter.flag} FILE"
            )


_THRESHOLD = typer.Option(metavar="PCT", help="Slowdown that counts, e.g. 10%.")
_ALPHA = typer.Option(metavar="P", help="Significance level.")
_MIN_DELTA = typer.Option(metavar="TIME", help="Smallest shift that counts, for time metrics.")


@app.command(
    cls=_HelpCommand,
    epilog=_examples(
        "chaos compare base/journal.json head/journal.json",
        "chaos compare base.json head.json --threshold 20% --md compare.md",
        "chaos compare base.json head.json --metric availability",
    ),
)
def compare(
    base: Annotated[Path, typer.Argument(metavar="BASE", help="Journal of the baseline version.")],
    head: Annotated[
        Path, typer.Argument(metavar="HEAD", help="Journal of the version under review.")
    ],
    threshold: Annotated[str, _THRESHOLD] = "10%",
    metric: Annotated[
        str,
        typer.Option(
            metavar="NAME",
            help="'recovery' (every recovery phase), or one metric such as "
            "recovery_ready_s, recovery_s, availability.",
        ),
    ] = "recovery",
    alpha: Annotated[float, _ALPHA] = 0.05,
    min_delta: Annotated[str, _MIN_DELTA] = "25ms",
    md: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Also write the table as Markdown.")
    ] = None,
) -> None:
    """Compare recovery times of two runs, phase by phase; exit 1 on a significant regression.

    Each trial is one value (the median of its faults). A regression is a shift
    (Hodges-Lehmann, shown with its confidence interval) worse by more than --threshold of
    the base median and by more than --min-delta (time metrics only: scheduling jitter of a
    few ms is not one), with p < alpha (Mann-Whitney U, Holm-corrected over the phases).
    When the runs are too few to tell, it says so, and how many trials would.
    """
    from harness.report.compare import RECOVERY
    from harness.report.compare import compare as do_compare
    from harness.report.compare_view import compare_to_markdown, render_compare
    from harness.results import journal
    from harness.spec.units import parse_duration, parse_fraction

    with _errors():
        try:
            limit = parse_fraction(threshold)
        except ValueError as exc:
            raise UsageError(f"--threshold: {exc}") from None
        try:
            runs = journal.read(base), journal.read(head)
        except JournalError as exc:
            raise UsageError(str(exc)) from None
        try:
            timed = metric == RECOVERY or metric.endswith("_s")
            floor = parse_duration(min_delta) if timed else 0.0
        except ValueError as exc:
            raise UsageError(f"--min-delta: {exc}") from None
        comparison = do_compare(*runs, metric=metric, threshold=limit, alpha=alpha, min_delta=floor)
        render_compare(comparison, _console())
        if md is not None:
            md.parent.mkdir(parents=True, exist_ok=True)
            md.write_text(compare_to_markdown(comparison), encoding="utf-8")
    raise typer.Exit(int(ExitCode.FAILED if comparison.regressed else ExitCode.OK))


@app.command(
    cls=_HelpCommand,
    epilog=_examples(
        "chaos trend v1/journal.json v2/journal.json v3/journal.json --html trend.html",
        "chaos trend nightly/*/journal.json --order date --md trend.md",
    ),
)
def trend(
    journals: Annotated[
        list[Path], typer.Argument(metavar="JOURNAL...", help="Journals of the runs, two or more.")
    ],
    html: Annotated[
        Path | None, typer.Option("--html", metavar="FILE", help="Write the trend chart (HTML).")
    ] = None,
    md: Annotated[
        Path | None, typer.Option("--md", metavar="FILE", help="Write the trend table (Markdown).")
    ] = None,
    order: Annotated[
        str,
        typer.Option(
            metavar="BY",
            help="auto (version if every journal has its own, else date), version, date, or "
            "files (as given).",
        ),
    ] = "auto",
    threshold: Annotated[str, _THRESHOLD] = "10%",
    alpha: Annotated[float, _ALPHA] = 0.05,
    min_delta: Annotated[str, _MIN_DELTA] = "25ms",
) -> None:
    """Recovery per phase and availability over many runs, in order.

    One point per journal (per scenario, the median over its trials); a point is marked
    where compare, run on it and the point before with the same options, would flag a
    regression. Exit 0 whatever the trend: compare is the gate.
    """
    from harness.report.trend import Order, read_point
    from harness.report.trend import trend as make_trend
    from harness.report.trend_view import render_trend, trend_to_html, trend_to_markdown
    from harness.report.writers import write_text
    from harness.spec.units import parse_duration, parse_fraction

    with _errors():
        if len(journals) < 2:
            raise UsageError("a trend needs two journals or more")
        try:
            chosen = Order(order)
        except ValueError:
            known = ", ".join(o.value for o in Order)
            raise UsageError(f"--order {order!r}: expected one of {known}") from None
        try:
            limit, floor = parse_fraction(threshold), parse_duration(min_delta)
        except ValueError as exc:
            raise UsageError(f"--threshold/--min-delta: {exc}") from None
        try:
            points = [read_point(path) for path in journals]
        except JournalError as exc:
            raise UsageError(str(exc)) from None
        result = make_trend(points, order=chosen, threshold=limit, alpha=alpha, min_delta=floor)
        render_trend(result, _console())
        for path, text in ((html, trend_to_html), (md, trend_to_markdown)):
            if path is not None:
                write_text(path, text(result))
                _console().print(escape.console(f"wrote {path}", style="dim"))


@app.command(
    cls=_HelpCommand,
    epilog=_examples(
        "chaos matrix scenarios/ --axis bugs=,no-restart,slow-restart --jobs 2",
        "chaos matrix mine.yaml --axis version=1.2,1.3 --md matrix.md",
    ),
)
def matrix(
    paths: Annotated[list[Path], _PATHS],
    axis: Annotated[
        str,
        typer.Option(
            metavar="VAR=BASE,V1,...",
            help="The first value is the baseline that must pass; every other value must be "
            "caught by a failed invariant. 'bugs=,no-restart' starts with ''.",
        ),
    ],
    select: Annotated[str | None, _SELECT] = None,
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

    with _errors():
        name, sep, raw = axis.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--axis expects VAR=BASE,V1,V2..., got {axis!r}")
        values = [v.strip() for v in raw.split(",")]
        scenarios = _load(paths, {}, select)
        if not scenarios:
            _fail(f"-k {select!r} selected no scenario", ExitCode.USAGE)
        console = _console()
        with RunProgress(_console(quiet)) as progress:
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


def _declared_vars(file: str, cache: dict[str, dict[str, str]]) -> dict[str, str]:
    if file not in cache:
        from harness.schedule.replay import declared_vars

        cache[file] = declared_vars(Path(file))
    return cache[file]


def _print_reruns(run: RunResult, journal_path: Path, console: Console) -> None:
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


def _budget(runs: int, seconds: str) -> Budget:
    from harness.schedule.shrink import Budget
    from harness.spec.units import parse_duration

    try:
        return Budget(runs=runs, seconds=parse_duration(seconds))
    except ValueError as exc:
        raise UsageError(f"--time: {exc}") from None


def _shrink_one(
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


def _shrink_failures(run: RunResult, out: Path, journal_path: Path, console: Console) -> None:
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
            _warn(f"{scenario.name}#{trial.index} cannot be shrunk: {exc}")
            continue
        dest = out / "shrunk" / f"{scenario.name}-{trial.index}.yaml"
        _shrink_one(target, _budget(20, "10m"), dest, journal_path, console)


def _journal_target(journal_file: Path, trial: str) -> Target:
    from harness.results import journal
    from harness.run.rerun import target_of
    from harness.schedule.replay import find_trial, parse_ref

    name, index = parse_ref(trial)
    try:
        result = journal.read(journal_file)
    except JournalError as exc:
        raise UsageError(str(exc)) from None
    return target_of(*find_trial(result, name, index))


@app.command()
def replay(
    journal_file: Annotated[Path, typer.Argument(metavar="JOURNAL", help="A journal.json.")],
    trial: Annotated[str, typer.Option("--trial", help="NAME#I: the trial to rerun.")],
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for the replay's journal (default: JOURNAL's folder/replay)."),
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

    with _errors():
        target = _journal_target(journal_file, trial)
        console = _console(quiet)
        if target.planned:
            _warn(
                f"{trial}: the journal stored no schedule (written before schedules were); "
                f"planned again from its seed {target.seed} and the scenario file as it is now"
            )
        for line in describe(target.record.name, target.trial.index, target.schedule):
            console.print(escape.console(line), soft_wrap=True)
        signal.signal(signal.SIGTERM, _terminate_as_interrupt)
        result = rerun.as_run(target, rerun.rerun(target, keep_run_dir=keep), sys.argv[1:])
        folder = journal_file.parent / "replay" if out is None else out
        if folder.resolve() == journal_file.parent.resolve():
            raise UsageError(f"--out {folder} would overwrite {journal_file}; choose another")
        path = folder / "journal.json"
        journal.write(result, path)
        render_summary(result, console)
        _print_reruns(result, path, console)
        console.print(escape.console(f"journal: {path}", style="dim"))
    raise typer.Exit(int(_exit_for(result)))


@app.command()
def shrink(
    journal_file: Annotated[Path, typer.Argument(metavar="JOURNAL", help="A journal.json.")],
    trial: Annotated[str, typer.Option("--trial", help="NAME#I: the failed trial to shrink.")],
    out: Annotated[
        Path | None,
        typer.Option(
            help="Where to write the scenario (default: JOURNAL's folder/NAME-I-shrunk.yaml)."
        ),
    ] = None,
    runs: Annotated[int, typer.Option("--budget", min=2, help="Reruns at most.")] = 40,
    time: Annotated[str, typer.Option("--time", help="Wall-clock time at most.")] = "15m",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the exit code.")] = False,
) -> None:
    """Rerun a failed trial with fewer, earlier, closer and shorter faults; write the
    smallest schedule that still fails as a scenario file.

    A candidate counts as failing only if it fails the same way on two runs in a row.
    Exit 0: written; 1: the failure did not recur on a rerun (nothing written).
    """
    with _errors():
        budget = _budget(runs, time)
        target = _journal_target(journal_file, trial)
        if target.trial.verdict is not Verdict.FAIL:
            raise UsageError(
                f"{trial} did not fail (its verdict is {target.trial.verdict}): only a failed "
                "trial can be shrunk"
            )
        name = f"{target.record.name}-{target.trial.index}-shrunk.yaml"
        dest = journal_file.parent / name if out is None else out
        signal.signal(signal.SIGTERM, _terminate_as_interrupt)
        written = _shrink_one(target, budget, dest, journal_file, _console(quiet))
    raise typer.Exit(int(ExitCode.OK if written else ExitCode.FAILED))


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def testbed(ctx: typer.Context) -> None:
    """Run the reference system (the testbed) by hand; --help for its options."""
    from harness.testbed.cli import main as testbed_main

    raise typer.Exit(testbed_main(list(ctx.args)))


@app.command(cls=_HelpCommand, epilog=_examples("chaos version"))
def version() -> None:
    """Print the harness version."""
    _console().print(f"chaos {__version__}")


@app.command()
def doctor() -> None:
    """Print what this host allows: containment, process events, pidfds (exit 3 if unusable)."""
    from harness.faults.families import families
    from harness.faults.registry import FAULTS
    from harness.system import host

    with _errors():
        found = host.report()
    console = _console()

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
        _fail("this host cannot run trials: " + found.pidfd.detail, ExitCode.HARNESS)


# --------------------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> int:
    """Console-script entry: run the Typer app with the exit-code contract.

    Click's standalone mode prints usage errors as one line (exit 2) and turns every
    ``typer.Exit`` into ``SystemExit``; its code is what we return.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        app(args=args, prog_name="chaos", standalone_mode=True)
    except SystemExit as exc:
        if exc.code is None:
            return int(ExitCode.OK)
        return exc.code if isinstance(exc.code, int) else int(ExitCode.USAGE)
    return int(ExitCode.OK)


if __name__ == "__main__":
    raise SystemExit(main())

"""Commands that read journals and run nothing: ``report`` (and merging), ``compare``,
``trend``."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated

import typer

from harness.cli.app import (
    VAR,
    ExitCode,
    HelpCommand,
    app,
    examples,
    load_scenarios,
    make_console,
    parse_vars,
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
from harness.errors import JournalError, UsageError
from harness.report import escape
from harness.report.registry import reporters
from harness.results.model import RunResult


@app.command(
    cls=ReportsCommand,
    epilog=examples(
        "chaos report reports/journal.json --html",
        "chaos report reports/journal.json --md summary.md --junit junit.xml",
        "chaos report reports/journal.json --scenario stricter.yaml --html rejudged.html",
    ),
)
@with_report_flags
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
    var: Annotated[list[str], VAR] = [],  # noqa: B006
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

    with user_errors():
        if out is None:
            out = journal_files[0].parent if len(journal_files) == 1 else Path("reports")
        targets = asked(reports, out)
        for journal_file in journal_files:
            _refuse_overwriting(journal_file, targets)
        try:
            result = _read_merged(journal_files, allow_mixed)
        except JournalError as exc:
            raise UsageError(str(exc)) from None
        title = "chaos report " + " ".join(map(str, journal_files))
        if scenario:
            scenarios = load_scenarios(scenario, parse_vars(var), None)
            result = rejudge(result, scenarios)
            title += " (re-judged with " + ", ".join(map(str, scenario)) + ")"
        render_trial_lines(result, make_console())
        render_summary(result, make_console(), title=title)
        written, failures = write_all(result, targets)
        for path in written:
            make_console().print(escape.console(f"wrote {path}", style="dim"))
    raise typer.Exit(int(exit_after_reports(result, failures)))


def _read_merged(files: Sequence[Path], allow_mixed: bool) -> RunResult:
    """One journal as it is; several merged (``harness.results.merge``), each thing worth
    knowing about the merge said on stderr."""
    from harness.results import journal
    from harness.results.merge import MixedVersions, merge

    if len(files) == 1:
        return journal.read(files[0])
    distinct = list(dict.fromkeys(files))
    if len(distinct) < len(files):
        warn("a journal was given more than once; it is read once")
    try:
        merged = merge([(str(f), journal.read(f)) for f in distinct], allow_mixed=allow_mixed)
    except MixedVersions as exc:
        raise UsageError(
            f"cannot merge journals of {exc}. Run every shard from the same files and --var"
            " values, or pass --allow-mixed to merge them anyway"
        ) from None
    for note in merged.notes():
        warn(note)
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
    cls=HelpCommand,
    epilog=examples(
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

    with user_errors():
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
        render_compare(comparison, make_console())
        if md is not None:
            md.parent.mkdir(parents=True, exist_ok=True)
            md.write_text(compare_to_markdown(comparison), encoding="utf-8")
    raise typer.Exit(int(ExitCode.FAILED if comparison.regressed else ExitCode.OK))


@app.command(
    cls=HelpCommand,
    epilog=examples(
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

    with user_errors():
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
        render_trend(result, make_console())
        for path, text in ((html, trend_to_html), (md, trend_to_markdown)):
            if path is not None:
                write_text(path, text(result))
                make_console().print(escape.console(f"wrote {path}", style="dim"))

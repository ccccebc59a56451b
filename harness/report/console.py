"""The terminal: a live progress display while trials run, then the run's summary.

Rich decides colour (``NO_COLOR``, not a terminal) and the CLI injects the ``Console``, so
tests render into a string. Off a terminal (CI logs) the progress is one plain line per
finished trial; in quiet mode nothing is shown at all. Every recorded string reaches rich
through ``harness.report.escape.console``: never read as markup or emoji codes.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType

from rich import box
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from harness.report import escape
from harness.report.excerpt import (
    evidence_summary,
    expected_observed,
    failed_invariants,
    figures,
    judged_phases,
    ms,
    percent,
    step_figures,
    steps_line,
)
from harness.report.output import block_title, line_text, output_excerpt
from harness.results.model import HostUse, RunResult, ScenarioResult, TrialResult
from harness.spec.verdict import Outcome, Verdict, outcome

VERDICT_STYLE = {
    Outcome.PASS: "bold green",
    Outcome.FAIL: "bold red",
    Outcome.ERROR: "bold magenta",
    Outcome.SKIP: "yellow",
    Outcome.XFAIL: "yellow",
    Outcome.XPASS: "bold red",
}
OUTPUT_LINES = 6
"""Lines of a failed trial's output shown, after folding (``OUTPUT_VERBOSE`` with ``verbose``)."""
OUTPUT_VERBOSE = 60
RUN_TITLE = "chaos run"


def verdict_text(verdict: Verdict | Outcome) -> Text:
    """The verdict (or outcome: ``XFAIL``, ``XPASS``) in upper case, coloured by severity."""
    shown = Outcome(str(verdict))
    return Text(str(shown).upper(), style=VERDICT_STYLE[shown])


def _trial_line(
    scenario: str, trial: TrialResult, total: int | None = None, expected: str | None = None
) -> Text:
    count = f"{trial.index + 1}/{total}" if total else str(trial.index + 1)
    shown = outcome(trial.verdict, expected)
    line = escape.console(
        verdict_text(shown), f" {scenario} trial {count} ({trial.duration_s:.1f}s)"
    )
    recovery = trial.metrics.get("recovery_s")
    if isinstance(recovery, list) and recovery:
        until = "/".join(judged_phases(trial))
        label = f" recovery ({until}) " if until else " recovery "
        line.append(label + ", ".join(ms(v) for v in recovery), style="dim")
    if trial.verdict is not Verdict.PASS:
        failed = failed_invariants(trial)
        reason = f"{failed[0].kind}: {failed[0].detail}" if failed else trial.error or ""
        # the first clause: one line per trial; the summary's block has the rest
        line.append_text(escape.console((f" — {reason.split('; ', 1)[0]}", "dim")))
    if shown is Outcome.XPASS:
        line.append_text(escape.console((f" — passed, but expected to fail: {expected}", "dim")))
    elif shown is Outcome.XFAIL:
        line.append_text(escape.console((f" (expected: {expected})", "dim")))
    return line


# --------------------------------------------------------------------------- summary


def _summary_table(run: RunResult) -> Table:
    # Light borders and no-wrap names: it must read well at 80 columns (CI logs).
    table = Table(
        header_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        padding=(0, 1),
    )
    table.add_column("scenario", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("trials", justify="right", no_wrap=True)
    table.add_column("recov. p50", justify="right", no_wrap=True)
    table.add_column("p95", justify="right", no_wrap=True)
    table.add_column("max", justify="right", no_wrap=True)
    table.add_column("avail.", justify="right", no_wrap=True)
    for scenario in run.scenarios:
        if scenario.skipped is not None:
            table.add_row(
                escape.console(scenario.name),
                verdict_text(Verdict.SKIP),
                "-",
                "",
                "",
                "",
                "",
            )
            continue
        f = figures(scenario)
        table.add_row(
            escape.console(scenario.name),
            verdict_text(scenario.outcome),
            f"{f.passed}/{f.total}",
            ms(f.recovery_p50),
            ms(f.recovery_p95),
            ms(f.recovery_max),
            percent(f.availability),
        )
    return table


def _totals(run: RunResult) -> Text:
    s = run.summary()
    text = Text(f"{s['trials']} trial(s) in {s['scenarios']} scenario(s): ")
    text.append(f"{s['passed']} passed", style="green")
    keys = (
        ("failed", "failed", "red"),
        ("errors", "errors", "magenta"),
        ("skipped", "skipped", "yellow"),
        ("xfailed", "failed as expected", "yellow"),
        ("xpassed", "passed unexpectedly", "red"),
    )
    for key, label, style in keys:
        if s[key]:
            text.append(f", {s[key]} {label}", style=style)
    return text


def _failure(scenario: ScenarioResult, trial: TrialResult, verbose: bool) -> RenderableType:
    """A compact block: the failed invariants with expected/observed and their evidence,
    then the output that matters (stderr first, repeats folded, nearest the failure)."""
    shown = scenario.outcome_of(trial)
    parts: list[RenderableType] = [
        escape.console(
            verdict_text(shown),
            (f" {scenario.name} trial {trial.index + 1}", "bold"),
            (f"  seed={trial.seed}  {scenario.file}", "dim"),
        )
    ]
    if shown is Outcome.XPASS:
        parts.append(escape.console(f"  passed, but expected to fail: {scenario.expected_failure}"))
        parts.append(
            escape.console(
                "  (the weakness is gone, or the scenario no longer finds it: ",
                "remove expect: fail, or fix the scenario)",
                style="dim",
            )
        )
    if trial.error:
        parts.append(escape.console(f"  {trial.error}"))
    for inv in failed_invariants(trial):
        parts.append(escape.console("  ✗ ", (inv.kind, "bold"), f": {inv.detail}"))
        for label, value in expected_observed(inv):
            parts.append(escape.console((f"    {label}: ", "dim"), value))
        for i, line in enumerate(evidence_summary(trial, inv)):
            lead = "    evidence: " if i == 0 else "              "
            parts.append(escape.console((lead, "dim"), (line, "dim")))
    for block in output_excerpt(trial, OUTPUT_VERBOSE if verbose else OUTPUT_LINES):
        parts.append(escape.console((f"  {block_title(block)}", "dim")))
        parts.extend(escape.console(("    │ ", "dim"), line_text(line)) for line in block.lines)
    return Group(*parts)


def render_result_line(run: RunResult, console: Console) -> None:
    """The one line ``-q`` prints: how many trials passed, failed, errored."""
    console.print(_totals(run))


def render_trial_lines(run: RunResult, console: Console) -> None:
    """One line per trial, as the live progress prints them (for a journal read back)."""
    for scenario in run.scenarios:
        for trial in scenario.trials:
            console.print(
                _trial_line(scenario.name, trial, len(scenario.trials), scenario.expected_failure)
            )


def render_summary(
    run: RunResult, console: Console, *, verbose: bool = False, title: str = RUN_TITLE
) -> None:
    """Print the per-scenario table (titled with what ran), then every failed or errored
    trial as a compact block with its evidence."""
    console.print(escape.console(title, style="italic"), soft_wrap=True)  # a path: never cut
    console.print(_summary_table(run))
    for scenario in run.scenarios:
        steps = step_figures(scenario.trials)
        if steps:
            console.print(Text(f"  {scenario.name} recovery p50: {steps_line(steps)}", style="dim"))
    console.print(_totals(run))
    for scenario in run.scenarios:
        if scenario.skipped is not None:
            console.print(
                escape.console(f"skipped {scenario.name}: {scenario.skipped}", style="yellow")
            )
    for scenario in run.scenarios:
        for trial in scenario.trials:
            if scenario.outcome_of(trial).bad:  # an expected failure is on its line only
                console.print()
                console.print(_failure(scenario, trial, verbose))


# --------------------------------------------------------------------------- live progress


class RunProgress:
    """The runner's observer: what is running now (terminal) or what just finished (logs).

    Callbacks arrive from trial threads, so state is guarded by a lock; rich's ``Live``
    redraws from ``_render`` on its own thread.
    """

    def __init__(self, console: Console) -> None:
        self.console = console
        self._lock = threading.Lock()
        self._running: dict[tuple[str, int], tuple[int, str, float]] = {}
        self._totals: dict[str, int] = {}
        self._finished = 0
        self._live: Live | None = None

    def __enter__(self) -> RunProgress:
        if self.console.is_terminal and not self.console.quiet:
            self._live = Live(
                console=self.console,
                get_renderable=self._render,
                refresh_per_second=4,
                transient=True,
            )
            self._live.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.__exit__(exc_type, exc, tb)
            self._live = None

    def _render(self) -> RenderableType:
        with self._lock:
            running = sorted(self._running.items())
            finished = self._finished
        table = Table(box=None, show_header=False, padding=(0, 2, 0, 0))
        for (scenario, index), (total, phase, started) in running:
            table.add_row(
                Text("▶", style="cyan"),
                escape.console(scenario, style="bold"),
                f"trial {index + 1}/{total}",
                escape.console(phase, style="cyan"),
                f"{time.monotonic() - started:5.1f}s",
            )
        return Group(Text(f"{finished} trial(s) finished", style="dim"), table)

    def run_started(self, host: HostUse, summary: str) -> None:
        """The header: what holds and watches the system, and what dead runs had left."""
        if self.console.quiet:
            return
        self.console.print(Text(f"host: {summary}", style="dim"), soft_wrap=True)
        for line in host.leftovers:
            self.console.print(
                Text(f"left by an earlier run, now ended: {line}", style="yellow"), soft_wrap=True
            )

    def trial_started(self, scenario: str, index: int, total: int) -> None:
        with self._lock:
            self._totals[scenario] = total
            self._running[(scenario, index)] = (total, "starting", time.monotonic())

    def phase(self, scenario: str, index: int, name: str) -> None:
        with self._lock:
            if (scenario, index) in self._running:
                total, _, started = self._running[(scenario, index)]
                self._running[(scenario, index)] = (total, name, started)

    def trial_finished(
        self, scenario: str, result: TrialResult, expected_failure: str | None = None
    ) -> None:
        with self._lock:
            self._running.pop((scenario, result.index), None)
            self._finished += 1
            total = self._totals.get(scenario)
        if not self.console.quiet:
            self.console.print(_trial_line(scenario, result, total, expected_failure))

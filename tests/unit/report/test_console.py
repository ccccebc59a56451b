"""The console summary and the live progress, rendered into a string."""

from __future__ import annotations

import io

from rich.console import Console

from harness.report.console import RunProgress, render_summary

from .fixtures import backend_kill_trial, realistic_run


def _plain(width: int = 160) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=width, force_terminal=False, color_system=None), out


def test_summary_table_has_verdicts_and_recovery_percentiles() -> None:
    console, out = _plain()
    render_summary(realistic_run(), console)
    text = out.getvalue()
    row = next(line for line in text.splitlines() if "backend-sigkill" in line)
    assert "FAIL" in row
    assert "2/3" in row
    assert "520 ms" in row
    assert "1492 ms" in row
    assert "1600 ms" in row
    assert "71.79%" in row
    assert "requires docker" in text
    assert "5 trial(s) in 3 scenario(s): 2 passed, 2 failed, 1 errors, 1 skipped" in text


def test_failures_show_expected_observed_and_events_around() -> None:
    console, out = _plain()
    render_summary(realistic_run(), console)
    text = out.getvalue()
    assert "✗ recovers: backend was not back within 1s" in text
    assert "expected: role backend back to 1 live process within 1s" in text
    assert "observed: back after 1.600s" in text
    assert "t=2.010 process_exit pid=1001 instance=0 role=backend signal=SIGKILL" in text
    assert "api requests failed between" in text
    # the not-ready trial shows its output tail; the error trial its error
    assert "OSError: [Errno 98] Address already in use" in text
    assert "Too many open files" in text
    # a passing trial is not detailed
    assert "backend-sigkill trial 1 " not in text


def test_no_color_and_non_terminal_output_is_plain() -> None:
    console, out = _plain()
    render_summary(realistic_run(), console)
    assert "\x1b[" not in out.getvalue()


def test_progress_off_a_terminal_prints_one_line_per_trial() -> None:
    console, out = _plain()
    with RunProgress(console) as progress:
        progress.trial_started("backend-sigkill", 0, 2)
        progress.phase("backend-sigkill", 0, "faults")
        progress.trial_finished("backend-sigkill", backend_kill_trial(0, 0.48))
        progress.trial_started("backend-sigkill", 1, 2)
        progress.trial_finished("backend-sigkill", backend_kill_trial(1, 1.6))
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("PASS backend-sigkill trial 1/2")
    assert "480 ms" in lines[0]
    assert lines[1].startswith("FAIL backend-sigkill trial 2/2")
    assert "recovers:" in lines[1]


def test_progress_is_silent_in_quiet_mode() -> None:
    out = io.StringIO()
    console = Console(file=out, quiet=True, force_terminal=True)
    with RunProgress(console) as progress:
        progress.trial_started("s", 0, 1)
        progress.trial_finished("s", backend_kill_trial(0, 0.5))
    assert out.getvalue() == ""


def test_live_display_on_a_terminal_shows_running_trials() -> None:
    out = io.StringIO()
    console = Console(file=out, width=120, force_terminal=True)
    progress = RunProgress(console)
    progress.trial_started("backend-sigkill", 0, 3)
    progress.phase("backend-sigkill", 0, "faults")
    live = Console(file=io.StringIO(), width=120, record=True)
    live.print(progress._render())
    shown = live.export_text()
    assert "backend-sigkill" in shown
    assert "trial 1/3" in shown
    assert "faults" in shown
    with progress:
        progress.trial_finished("backend-sigkill", backend_kill_trial(0, 0.5))
    assert "PASS" in out.getvalue()

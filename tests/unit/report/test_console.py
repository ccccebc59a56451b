"""The console summary and the live progress, rendered into a string."""

from __future__ import annotations

import io

from rich.console import Console

from harness.observe.events import LogLine, ProcessStart, Request
from harness.report.console import (
    RunProgress,
    render_result_line,
    render_summary,
    render_trial_lines,
)
from harness.results.model import RunResult, ScenarioResult, TrialResult
from harness.spec.verdict import InvariantResult, Verdict

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


def test_failures_show_expected_observed_and_only_their_evidence() -> None:
    console, out = _plain()
    render_summary(realistic_run(), console)
    text = out.getvalue()
    assert "✗ recovers: backend was not back within 1s" in text
    assert "expected: role backend back to 1 live process within 1s" in text
    assert "observed: back after 1.600s" in text
    # the evidence is the kill (t=2.000) and the moment it was back (t=3.600), nothing else
    assert (
        "evidence: t=2.000 fault fault=0 kind=kill phase=instant role=backend pids=1001"
        " signal=SIGKILL" in text
    )
    assert "t=3.600 request workload=api ok=True status=200" in text
    assert "port_listen" not in text
    assert "process_exit" not in text
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


def test_a_failed_trial_is_a_compact_block() -> None:
    console, out = _plain()
    run = realistic_run()
    run.scenarios = run.scenarios[:1]
    render_summary(run, console)
    lines = out.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("FAIL backend-sigkill"))
    block = lines[start:]
    assert len(block) <= 12, "\n".join(block)
    assert [line for line in block if "│" in line] == [
        "    │ supervisor: backend 1001 died (SIGKILL), restarting",
        "    │ backend: slow start <script>alert(1)</script> & more",
        "    │ backend listening on 40002",
    ]


def _flooded_trial() -> TrialResult:
    """A uvicorn-like trial: an access log line every 50 ms, one traceback on stderr."""
    events: list[LogLine | ProcessStart | Request] = [
        LogLine(
            t=0.5 + i * 0.05,
            instance=0,
            stream="stdout",
            line=f'INFO:     127.0.0.1:{40000 + i} - "GET /items/{i} HTTP/1.1" 200 OK',
        )
        for i in range(60)
    ]
    events.append(LogLine(t=2.01, instance=0, stream="stderr", line="Traceback (most recent):"))
    events.append(LogLine(t=2.02, instance=0, stream="stderr", line="KeyError: 'worker'"))
    events.sort(key=lambda e: e.t)
    failed = InvariantResult(
        kind="recovers", verdict=Verdict.FAIL, detail="worker not back", evidence=[2.0]
    )
    return TrialResult(
        index=0, verdict=Verdict.FAIL, duration_s=4.0, invariants=[failed], events=list(events)
    )


def test_output_of_a_failure_is_stderr_first_with_the_access_log_folded() -> None:
    console, out = _plain()
    run = RunResult(
        started="now", scenarios=[ScenarioResult("uv", "uv.yaml", trials=[_flooded_trial()])]
    )
    render_summary(run, console)
    text = out.getvalue()
    output = text[text.index("  stderr: 2 lines") :]
    assert output.index("KeyError: 'worker'") < output.index("  stdout: 60 lines")
    assert output.index("  stdout: 60 lines") < output.index("GET /items")
    assert "(x60 alike)" in output
    assert output.count("GET /items") == 1


def test_quiet_prints_exactly_one_result_line() -> None:
    console, out = _plain()
    render_result_line(realistic_run(), console)
    assert out.getvalue().splitlines() == [
        "5 trial(s) in 3 scenario(s): 2 passed, 2 failed, 1 errors, 1 skipped"
    ]


def test_the_title_says_what_ran() -> None:
    console, out = _plain()
    render_summary(realistic_run(), console, title="chaos report reports/journal.json")
    first = out.getvalue().splitlines()[0].strip()
    assert first == "chaos report reports/journal.json"
    console, out = _plain()
    render_summary(realistic_run(), console)
    assert out.getvalue().splitlines()[0].strip() == "chaos run"


def test_a_journal_read_back_lists_one_line_per_trial() -> None:
    console, out = _plain()
    render_trial_lines(realistic_run(), console)
    lines = out.getvalue().splitlines()
    assert len(lines) == 5
    assert lines[0].startswith("PASS backend-sigkill trial 1/3")
    assert lines[2].startswith("FAIL backend-sigkill trial 3/3")

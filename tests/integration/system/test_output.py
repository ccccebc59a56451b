"""Output capture against real writers: bounded records, lines that matter kept, never blocking.

Each test starts a real process writing to real pipes and reads them with an
``OutputCapture`` with small limits, so the bounds are reached in a few lines.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest
from support import wait_until

from harness.observe.events import HarnessNote, LogLine, NoteLevel
from harness.observe.timeline import Timeline
from harness.system.output import OutputCapture, OutputLimits

DEADLINE_S = 60.0

Capture = Callable[..., tuple[subprocess.Popen[bytes], OutputCapture, Timeline]]


@pytest.fixture
def capture() -> Iterator[Capture]:
    """Start ``python -c CODE`` with its output read by a capture with ``limits``."""
    started: list[tuple[subprocess.Popen[bytes], OutputCapture]] = []

    def start(
        code: str, **limits: object
    ) -> tuple[subprocess.Popen[bytes], OutputCapture, Timeline]:
        timeline = Timeline()
        proc = subprocess.Popen(
            [sys.executable, "-c", code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        output = OutputCapture(
            {"stdout": proc.stdout, "stderr": proc.stderr},
            instance=0,
            timeline=timeline,
            limits=OutputLimits(**limits),  # type: ignore[arg-type]
        )
        output.start()
        started.append((proc, output))
        return proc, output, timeline

    yield start
    for proc, output in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(DEADLINE_S)
        if proc.stdin is not None:
            proc.stdin.close()
        output.close(writers_gone=True)


def _finish(proc: subprocess.Popen[bytes], output: OutputCapture) -> None:
    """The writer exits on its own; every line it wrote is read; the counts are noted."""
    assert proc.wait(DEADLINE_S) == 0
    assert output.wait(DEADLINE_S), "the capture must reach end of file"
    output.close(writers_gone=True)


def _lines(timeline: Timeline, stream: str = "stdout") -> list[str]:
    return [e.line for e in timeline.of(LogLine) if e.stream == stream]


def _notes(timeline: Timeline, level: NoteLevel) -> list[str]:
    return [e.message for e in timeline.of(HarnessNote) if e.level is level]


def test_every_line_up_to_the_budget_then_only_lines_matching_a_pattern(
    capture: Capture,
) -> None:
    code = (
        "import sys\n"
        "for i in range(50):\n"
        "    print(f'READY {i}' if i % 5 == 0 else f'line {i}')\n"
        "sys.stderr.write(''.join(f'err {i}\\n' for i in range(12)))\n"
    )
    proc, output, timeline = capture(
        code, timeline_lines=10, keep=(re.compile("READY"),), keep_lines=3, tail_lines=4
    )
    _finish(proc, output)

    written = [f"READY {i}" if i % 5 == 0 else f"line {i}" for i in range(50)]
    assert _lines(timeline) == [*written[:10], "READY 10", "READY 15", "READY 20"], (
        "every line within the budget, then only the first 3 more that match"
    )
    assert _lines(timeline, "stderr") == [f"err {i}" for i in range(10)], (
        "stderr has a budget of its own: a chatty stdout cannot crowd it out"
    )
    stats = output.stats()["stdout"]
    assert (stats.lines, stats.recorded, stats.kept_by_pattern, stats.dropped) == (50, 13, 3, 37)
    budget = [m for m in _notes(timeline, NoteLevel.INFO) if "(stdout)" in m]
    assert len(budget) == 1
    assert "10 lines recorded" in budget[0]
    assert "only lines matching one of the scenario's log patterns" in budget[0]
    counts = [m for m in _notes(timeline, NoteLevel.WARNING) if "(stdout)" in m]
    size = sum(len(line) + 1 for line in written)
    assert counts == [
        f"output of instance 0 (stdout): 50 lines ({size} bytes) read; 13 on the timeline (3 of"
        " them past the budget, matching a pattern); 37 not recorded"
    ]
    assert sorted(output.tail()) == sorted(
        ["line 46", "line 47", "line 48", "line 49", "err 8", "err 9", "err 10", "err 11"]
    ), "the last 4 lines of each stream"


def test_without_patterns_nothing_past_the_budget_is_recorded(capture: Capture) -> None:
    proc, output, timeline = capture(
        "print('\\n'.join(str(i) for i in range(100)))", timeline_lines=5
    )
    _finish(proc, output)

    assert _lines(timeline) == ["0", "1", "2", "3", "4"]
    assert output.stats()["stdout"].dropped == 95
    assert any("declares no log pattern" in m for m in _notes(timeline, NoteLevel.INFO))


def test_the_budget_also_counts_characters(capture: Capture) -> None:
    proc, output, timeline = capture(
        "print('a' * 40); print('b' * 40); print('c' * 40)", timeline_chars=100
    )
    _finish(proc, output)

    assert _lines(timeline) == ["a" * 40, "b" * 40]


def test_a_long_line_without_newline_is_cut_and_the_writer_never_waits(capture: Capture) -> None:
    """50 MB with no newline: the writer finishes, the harness keeps 1,000 characters."""
    code = (
        "import sys\n"
        "out = sys.stdout.buffer\n"
        "for _ in range(50):\n"
        "    out.write(b'y' * (1 << 20))\n"
        "out.write(b'\\nafter the long line\\n')\n"
        "out.flush()\n"
    )
    proc, output, timeline = capture(code, line_chars=1000)
    _finish(proc, output)

    lines = _lines(timeline)
    marker = OutputLimits(line_chars=1000).cut_marker()
    assert lines == ["y" * 1000 + marker, "after the long line"]
    stats = output.stats()["stdout"]
    assert (stats.cut, stats.cut_chars) == (1, 50 * (1 << 20) - 1000)
    assert any(
        "1 lines longer than 1,000 characters cut" in m for m in _notes(timeline, NoteLevel.WARNING)
    )


def test_a_cut_line_is_recorded_before_its_newline_comes(capture: Capture) -> None:
    """A line that never ends (a progress bar) is seen when it passes the limit."""
    code = "import sys, time\nsys.stdout.write('z' * 5000); sys.stdout.flush()\nsys.stdin.read()\n"
    proc, _, timeline = capture(code, line_chars=100)

    found = timeline.wait_for(lambda e: isinstance(e, LogLine), DEADLINE_S)

    assert isinstance(found, LogLine)
    assert found.line.startswith("z" * 100 + " [... cut by chaos")
    assert proc.poll() is None, "the writer is still running: the cut did not wait for it"


def test_the_tail_is_bounded_in_lines_and_characters(capture: Capture) -> None:
    code = "print('\\n'.join(f'{i:02d}' * 10 for i in range(20))); print('x' * 300)"
    proc, output, _ = capture(code, tail_lines=5, tail_chars=50)
    _finish(proc, output)

    assert output.tail() == ["x" * 300], "the last line is kept even when it alone is larger"

    proc, output, _ = capture(
        "print('\\n'.join(f'{i:02d}' * 10 for i in range(20)))", tail_lines=5, tail_chars=50
    )
    _finish(proc, output)
    assert output.tail() == ["18" * 10, "19" * 10], "as many of the last lines as fit in 50"


def test_a_character_split_across_two_reads_is_decoded_whole(capture: Capture) -> None:
    code = (
        "import sys\n"
        "out = sys.stdout.buffer\n"
        "out.write(b'caf\\xc3'); out.flush()\n"
        "sys.stdin.readline()\n"
        "out.write(b'\\xa9\\n'); out.flush()\n"
    )
    proc, output, timeline = capture(code)
    wait_until(lambda: output.stats()["stdout"].bytes == 4, what="the first half to be read")
    assert proc.stdin is not None
    proc.stdin.write(b"go\n")
    proc.stdin.flush()
    _finish(proc, output)

    assert _lines(timeline) == ["café"]

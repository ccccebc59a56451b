"""What a failed trial's output shows: stderr first, alike lines folded, nearest the failure."""

from __future__ import annotations

from harness.observe.events import LogLine
from harness.report.output import block_title, fold, line_text, output_excerpt
from harness.results.model import TrialResult
from harness.spec.verdict import InvariantResult, Verdict


def _trial(
    events: list[LogLine], evidence: list[float], tail: list[str] | None = None
) -> TrialResult:
    failed = InvariantResult(kind="recovers", verdict=Verdict.FAIL, detail="x", evidence=evidence)
    return TrialResult(
        index=0,
        verdict=Verdict.FAIL,
        duration_s=10.0,
        invariants=[failed],
        events=list(events),
        output_tail=tail or [],
    )


def _log(t: float, line: str, stream: str = "stdout") -> LogLine:
    return LogLine(t=t, instance=0, stream=stream, line=line)


def test_lines_alike_but_for_their_numbers_fold_into_one_with_a_count() -> None:
    folded = fold([("GET /1 200 in 3ms", 1.0), ("GET /22 200 in 14ms", 2.0), ("boom", 3.0)])
    assert [(line.text, line.count) for line in folded] == [("GET /1 200 in 3ms", 2), ("boom", 1)]
    assert (folded[0].t, folded[0].last_t) == (1.0, 2.0)
    assert line_text(folded[0]) == "GET /1 200 in 3ms  (x2 alike)"
    assert line_text(folded[1]) == "boom"


def test_stderr_comes_first_and_each_stream_keeps_the_lines_nearest_the_failure() -> None:
    events = [_log(float(i), f"step {chr(97 + i % 26)}") for i in range(40)]
    events += [_log(20.5, "fatal: worker lost", "stderr")]
    blocks = output_excerpt(_trial(events, evidence=[20.0]), limit=6)
    assert [b.stream for b in blocks] == ["stderr", "stdout"]
    assert [line.text for line in blocks[0].lines] == ["fatal: worker lost"]
    shown = [line.t for line in blocks[1].lines]
    assert len(shown) == 5
    assert shown == sorted(shown), "kept in time order"
    assert all(t is not None and abs(t - 20.0) <= 3 for t in shown), shown
    assert block_title(blocks[1]) == "stdout: 5 of 40 lines, the nearest the failure"
    assert block_title(blocks[0]) == "stderr: 1 line"


def test_stdout_keeps_a_third_when_stderr_floods_too() -> None:
    events = [_log(i * 0.1, f"err {chr(97 + i % 26)}", "stderr") for i in range(30)]
    events += [_log(i * 0.1, f"out {chr(97 + i % 26)}") for i in range(30)]
    blocks = output_excerpt(_trial(events, evidence=[1.0]), limit=12)
    assert [(b.stream, len(b.lines)) for b in blocks] == [("stderr", 8), ("stdout", 4)]


def test_without_log_events_the_recorded_tail_is_shown_without_colour_codes() -> None:
    blocks = output_excerpt(_trial([], evidence=[], tail=["\x1b[31mred\x1b[0m", "last"]))
    assert [(b.stream, [line.text for line in b.lines]) for b in blocks] == [
        ("output", ["red", "last"])
    ]


def test_tail_lines_the_timeline_left_out_are_still_shown() -> None:
    events = [_log(1.0, "early line")]
    blocks = output_excerpt(_trial(events, evidence=[1.0], tail=["early line", "dying words"]))
    assert [(b.stream, [line.text for line in b.lines]) for b in blocks] == [
        ("stdout", ["early line"]),
        ("output", ["dying words"]),
    ]

"""Outside text is shown as written by every reporter: never obeyed as markup, emoji codes,
terminal sequences, Markdown, HTML or XML.

One hostile string stands for everything a scenario author, a system or the machine can
write; it is put into every recorded field a report shows and each report is checked for
it, verbatim or in that output's escaped form.
"""

from __future__ import annotations

import dataclasses
import io
import xml.etree.ElementTree as ET

import pytest
from rich.console import Console

from harness.report import escape
from harness.report.compare import compare
from harness.report.compare_view import compare_to_markdown, render_compare
from harness.report.console import RunProgress, render_summary
from harness.report.html import to_html
from harness.report.junit import to_junit
from harness.report.markdown import to_markdown
from harness.report.text import describe_trial
from harness.results.model import RunResult

from .fixtures import realistic_run, recovery_run

MARKUP = "[/red][bold]x[link=https://evil.example]click[/link]"
HOSTILE = f"{MARKUP} at file:100: <b>&amp;</b> |pipe| *em* `code`"
"""Rich markup (an unmatched closing tag, a link), an emoji code hiding a line number,
HTML, a Markdown table cell breaker and inline syntax."""
CONTROL = "\x1b[31m\x1b]8;;https://evil.example\x07\u202e"
"""Colour, an OSC hyperlink and a right-to-left override: what a terminal would obey."""


def hostile_run() -> RunResult:
    run = realistic_run()
    for scenario in run.scenarios:
        scenario.name = f"{scenario.name} {HOSTILE}{CONTROL}"
        scenario.file = f"scenarios/{HOSTILE}.yaml"
        scenario.description = HOSTILE
        scenario.tags = [HOSTILE]
        if scenario.skipped is not None:
            scenario.skipped = f"requires {HOSTILE}{CONTROL}"
        for trial in scenario.trials:
            trial.error = f"{HOSTILE}{CONTROL}" if trial.error else None
            trial.output_tail = [f"out {HOSTILE}{CONTROL}"]
            trial.invariants = [
                dataclasses.replace(
                    inv,
                    detail=f"{inv.detail} {HOSTILE}{CONTROL}",
                    expected=HOSTILE,
                    observed=HOSTILE,
                )
                for inv in trial.invariants
            ]
    return run


def rendered(draw: object) -> str:
    out = io.StringIO()
    console = Console(file=out, width=1000, force_terminal=True, color_system="truecolor")
    assert callable(draw)
    draw(console)
    return out.getvalue()


def without_our_colours(text: str) -> str:
    """The console's own styling (SGR sequences rich writes) removed, nothing else."""
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def assert_inert_on_a_terminal(text: str) -> None:
    plain = without_our_colours(text)
    assert MARKUP in plain
    assert "file:100:" in plain
    assert "💯" not in plain
    assert "\x1b" not in plain  # every escape left is one of rich's own colours
    assert "\u202e" not in plain
    assert "\\x1b[31m" in plain  # the system's colour code is shown, not obeyed
    assert "\x1b]8;" not in text  # no hyperlink, from rich markup or from the text


# --------------------------------------------------------------------------- the module


def test_console_text_is_never_markup_or_emoji() -> None:
    text = escape.console(("error:", "bold red"), f" {HOSTILE}{CONTROL}")
    assert text.plain == f"error: {HOSTILE}\\x1b[31m\\x1b]8;;https://evil.example\\x07\\u202e"
    assert_inert_on_a_terminal(rendered(lambda c: c.print(text)))


def test_visible_keeps_tabs_and_newlines_and_shows_the_rest() -> None:
    assert escape.visible("a\tb\nc\x00d\x9be\u200bf\ufeff") == "a\tb\nc\\x00d\\x9be\\u200bf\\ufeff"


def test_markdown_is_rendered_as_written() -> None:
    text = escape.markdown(f"{HOSTILE}\nnext [x](http://e) ![i](http://e/i.png) ~~s~~")
    assert "\n" not in text
    assert "<" not in text
    assert "|" not in text.replace("\\|", "")
    assert "\\[x\\](http://e)" in text
    assert "!\\[i\\]" in text
    assert "\\*em\\*" in text
    assert "\\`code\\`" in text
    assert "\\~\\~s\\~\\~" in text


def test_html_and_xml() -> None:
    assert escape.html('<a href="x">&') == "&lt;a href=&quot;x&quot;&gt;&amp;"
    assert escape.xml("a\x1b[31mred\x1b[0m\x07b\tc\n\ud800") == "ared\\x07b\tc\n\\ud800"


# --------------------------------------------------------------------------- every reporter


def test_the_console_summary_shows_outside_text_as_written() -> None:
    output = rendered(lambda c: render_summary(hostile_run(), c, verbose=True))
    assert_inert_on_a_terminal(output)
    assert "requires [/red]" in output  # the skipped reason
    assert "out [/red]" in without_our_colours(output)  # the system's output tail


def test_the_live_progress_shows_outside_text_as_written() -> None:
    run = hostile_run()
    scenario = run.scenarios[0]

    def draw(console: Console) -> None:
        progress = RunProgress(console)
        progress.trial_started(scenario.name, 2, 3)
        console.print(progress._render())
        progress.trial_finished(scenario.name, scenario.trials[2])

    assert_inert_on_a_terminal(draw_output := rendered(draw))
    assert "recovers:" in draw_output


def test_compare_shows_outside_text_as_written() -> None:
    base = recovery_run({HOSTILE + CONTROL: [0.5, 0.52, 0.49]})
    head = recovery_run({HOSTILE + CONTROL: [1.5, 1.52, 1.49]})
    comparison = compare(base, head)
    assert_inert_on_a_terminal(rendered(lambda c: render_compare(comparison, c)))
    md = compare_to_markdown(comparison)
    assert "<b>" not in md
    assert "\\[/red\\]" in md
    row = next(line for line in md.splitlines() if "red" in line)
    assert row.count("|") - row.count("\\|") == 11  # ten cells, none split


def test_markdown_shows_outside_text_as_written() -> None:
    md = to_markdown(hostile_run())
    assert "<b>" not in md
    assert "\x1b" not in md
    assert "\\[link=https://evil.example\\]click\\[/link\\]" in md
    for line in md.splitlines():
        if line.startswith("| backend"):
            assert line.count("|") - line.count("\\|") == 8  # seven cells, none split


def test_html_shows_outside_text_as_written() -> None:
    page = to_html(hostile_run())
    assert "<b>&amp;</b>" not in page
    assert "&lt;b&gt;&amp;amp;&lt;/b&gt;" in page
    assert "\x1b" not in page
    assert "\\x1b[31m" in page
    assert 'href="https://evil' not in page


def test_junit_is_parseable_and_shows_outside_text_as_written() -> None:
    document = to_junit(hostile_run())
    root = ET.fromstring(document.split("\n", 1)[1])
    names = [case.get("name") or "" for case in root.iter("testcase")]
    assert all(HOSTILE in name for name in names)
    messages = [node.get("message") or "" for node in root.iter("failure")]
    assert messages
    assert all(HOSTILE in message for message in messages)
    assert "\x1b" not in document


@pytest.mark.parametrize("index", [2], ids=["failed-invariant"])
def test_the_pytest_failure_text_shows_outside_text_as_written(index: int) -> None:
    run = hostile_run()
    scenario = run.scenarios[0]
    text = describe_trial(scenario.name, scenario.trials[index])
    assert MARKUP in text
    assert "\x1b" not in text
    assert "\u202e" not in text
    assert "\\x1b[31m" in text
    not_ready = run.scenarios[1]
    tail = describe_trial(not_ready.name, not_ready.trials[0])
    assert f"out {HOSTILE}" in tail  # the system's output, its colour code dropped

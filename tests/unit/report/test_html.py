"""The HTML report is self-contained, escaped, and draws the trial's story."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

from harness.observe.events import Request
from harness.report.html import to_html
from harness.report.svg import MAX_POINTS, Axis, sample_requests
from harness.report.timeline import timeline_svg

from .fixtures import backend_kill_trial, realistic_run


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(document: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(document)
    return parser.tags


def test_loads_nothing_from_anywhere() -> None:
    document = to_html(realistic_run())
    tags = _tags(document)
    for tag, attrs in tags:
        assert tag not in ("link", "img", "iframe", "object", "embed"), tag
        for name in ("src", "href", "action", "srcset"):
            value = attrs.get(name)
            assert value is None or value.startswith("#"), (tag, name, value)
    assert [attrs for tag, attrs in tags if tag == "script"] == [{}], "one inline script"
    script = document[document.index("<script>") : document.index("</script>")]
    for call in ("fetch", "XMLHttpRequest", "import", "WebSocket", "src", "eval"):
        assert call not in script, call
    assert "@import" not in document
    assert "url(http" not in document
    assert "http" not in document.replace("http://www.w3.org", "")


def test_recorded_text_is_escaped() -> None:
    document = to_html(realistic_run())
    assert "<script>alert(1)</script>" not in document
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in document


def test_every_trial_has_a_timeline_and_requests_a_latency_plot() -> None:
    document = to_html(realistic_run())
    svgs = re.findall(r"<svg class=\"(\w+)\"", document)
    assert svgs.count("timeline") == 5
    assert svgs.count("latency") == 3
    assert svgs.count("distribution") == 1
    for svg in re.findall(r"<svg class=\"\w+\".*?</svg>", document, flags=re.S):
        ET.fromstring(svg)  # well-formed


def test_timeline_draws_lanes_kills_freezes_and_faults() -> None:
    trial = backend_kill_trial(0, 0.5)
    svg = timeline_svg(trial.events, Axis(end=6.5))
    root = ET.fromstring(svg)
    labels = "".join(root.itertext())
    for lane in ("supervisor", "backend", "worker", "1001", "1002", "1003"):
        assert lane in labels
    assert "kill backend" in labels
    assert "freeze worker" in labels
    assert len(root.findall(".//{*}g[@class='cross']")) == 1  # the SIGKILLed backend
    assert len(root.findall(".//{*}rect[@class='frozen']")) == 1
    assert len(root.findall(".//{*}rect[@class='probe-fail']")) >= 1
    assert "ready" in labels


def test_failures_come_first_and_open_passing_trials_folded() -> None:
    document = to_html(realistic_run())
    opened = re.findall(r'<details class="trial (\w+)" id="([^"]+)"( open)?>', document)
    assert [(trial_id, css, bool(flag)) for css, trial_id, flag in opened] == [
        ("port-squatted-trial-0", "failing", True),  # the erroring scenario first
        ("port-squatted-trial-1", "failing", True),
        ("backend-sigkill-trial-2", "failing", True),  # its failed trial before its passes
        ("backend-sigkill-trial-0", "passing", False),
        ("backend-sigkill-trial-1", "passing", False),
    ]
    sections = re.findall(r'<section class="scenario (\w+)" id="([^"]+)"', document)
    assert sections == [
        ("failing", "port-squatted"),
        ("failing", "backend-sigkill"),
        ("passing", "needs-docker"),
    ]


def test_only_failures_is_a_radio_button_and_css_no_script_needed() -> None:
    document = to_html(realistic_run())
    start = document.index("<body>")
    body = document[start : document.index("<main>", start)]
    assert '<input type="radio" name="show" id="show-all" class="show" checked>' in body
    assert '<input type="radio" name="show" id="show-failures" class="show">' in body
    assert '<label for="show-failures">only failures (3)</label>' in document
    assert "#show-failures:checked ~ main .passing { display: none; }" in document


def test_search_box_is_hidden_until_the_script_runs() -> None:
    document = to_html(realistic_run())
    box = next(attrs for tag, attrs in _tags(document) if attrs.get("id") == "search")
    assert "hidden" in box
    assert "box.hidden = false" in document


def test_requests_are_capped_keeping_every_error() -> None:
    requests = [
        Request(t=i * 0.001, workload="w", instance=0, ok=i % 10 != 0) for i in range(10_000)
    ]
    sample = sample_requests(requests)
    assert len(sample) == MAX_POINTS
    assert sum(not r.ok for r in sample) == 1000
    assert [r.t for r in sample] == sorted(r.t for r in sample)


def test_in_a_failed_trial_the_invariants_that_held_are_folded_below_the_failed() -> None:
    document = to_html(realistic_run())
    start = document.index('id="backend-sigkill-trial-2"')
    trial = document[start : document.index("</details>", document.index('class="held"', start))]
    assert trial.index(">recovers<") < trial.index('<details class="held">')
    assert '<summary class="muted">1 held: availability</summary>' in trial

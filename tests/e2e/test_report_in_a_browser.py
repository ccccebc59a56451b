"""The HTML report as a reader sees it, in headless Chromium: 30 trials of a real run.

The journal (``tests/data/reports``) is a real ``chaos run`` of three scenarios, ten trials
each, with the testbed's ``slow-restart`` bug on: backend-sigkill fails all ten, the two
others pass all theirs. Rendered with today's code, the page must keep passing trials to a
line each and failures first and open, give each role one colour in every trial, filter
and search, and stay readable at 800 px (charts scroll rather than shrink). Skipped, with
the reason, where Chromium is missing (``.ci/run`` installs it where it can).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from support.browser import chromium, measure, screenshot

from harness.report.html import to_html
from harness.results.journal import run_from_dict
from harness.results.model import RunResult
from harness.spec.verdict import Verdict

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        chromium() is None, reason="Chromium is not installed (apt-get install chromium)"
    ),
]

JOURNAL = (
    Path(__file__).resolve().parents[1]
    / "data"
    / "reports"
    / "slow-restart-30-trials.journal.json.gz"
)
PASSING_TRIAL_PX = 60
"""The most a folded passing trial may take: its one summary line."""
MAX_HEIGHT_PX = 18_000
"""The whole page at 1400 px: ten failed trials open, twenty passing ones folded (15.3k
measured; the report before this layout was 23.7k for the same journal)."""


def load_run() -> RunResult:
    return run_from_dict(json.loads(gzip.decompress(JOURNAL.read_bytes())))


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(to_html(load_run()), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def wide(page: Path) -> dict[str, Any]:
    return measure(page, 1400)


def _ids(run: RunResult, failed: bool) -> list[str]:
    return [
        f"{s.name}-trial-{t.index}"
        for s in run.scenarios
        for t in s.trials
        if (t.verdict is not Verdict.PASS) == failed
    ]


def test_the_journal_is_thirty_trials_some_failing() -> None:
    run = load_run()
    assert run.summary()["trials"] == 30
    assert len(_ids(run, failed=True)) == 10


def test_failures_are_open_passing_trials_folded_and_the_page_short(
    page: Path, wide: dict[str, Any]
) -> None:
    run = load_run()
    assert len(wide["shown"]) == 30
    assert sorted(wide["open"]) == sorted(_ids(run, failed=True))
    assert wide["shown"][:10] == _ids(run, failed=True), "failures first"
    assert wide["height"] <= MAX_HEIGHT_PX, wide["height"]
    failures_only = measure(page, 1400, "?only=failures")
    assert sorted(failures_only["shown"]) == sorted(_ids(run, failed=True))
    # twenty passing trials (and the two passing scenarios' heads) is all the difference
    folded = wide["height"] - failures_only["height"]
    assert 0 < folded <= 20 * PASSING_TRIAL_PX + 2 * 450, folded


def test_each_role_has_one_colour_in_every_trial(wide: dict[str, Any]) -> None:
    roles: dict[str, list[str]] = wide["roles"]
    assert {"supervisor", "backend", "worker"} <= set(roles), roles
    assert all(len(fills) == 1 for fills in roles.values()), roles
    colours = [fills[0] for fills in roles.values()]
    assert len(set(colours)) == len(colours), "two roles share a colour"


def test_search_shows_only_the_matching_trials(page: Path) -> None:
    found = measure(page, 1400, "?q=daemon-bad-requests")
    assert len(found["shown"]) == 10
    assert all(i.startswith("daemon-bad-requests-trial-") for i in found["shown"])


def test_readable_at_800_px_the_timeline_scrolls_instead_of_shrinking(page: Path) -> None:
    narrow = measure(page, 800)
    assert narrow["width"] <= 800, "no sideways scroll of the whole page"
    assert narrow["chartWidth"] == pytest.approx(1080, abs=1), "drawn at full size, scrolled"
    assert narrow["minFont"] >= 10


def test_screenshots_as_a_reader_sees_them(page: Path, tmp_path: Path) -> None:
    for width, height in ((1400, 1800), (800, 1400)):
        png = screenshot(page, tmp_path / f"report-{width}.png", width, height)
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert int.from_bytes(data[16:20], "big") == width
        assert len(data) > 50_000, "a blank page is a few kB"

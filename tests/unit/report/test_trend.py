"""``chaos trend``: many journals in order, recovery per phase, compare's flags marked."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from harness.report.compare import Change, compare
from harness.report.trend import Order, read_point, trend, version_key
from harness.report.trend_view import trend_to_html, trend_to_markdown
from harness.results import journal

from .fixtures import phase_run


def _journal(tmp_path: Path, name: str, version: str, ready: list[float], started: str) -> Path:
    run = phase_run(
        {"backend-sigkill": [{"spawned": [0.05], "ready": [v]} for v in ready]}, started=started
    )
    run.harness_version = version
    path = tmp_path / name / "journal.json"
    journal.write(run, path)
    return path


def _four(tmp_path: Path) -> list[Path]:
    """0.9.0 and 0.9.5 recover in ~400 ms, 0.10.0 in ~900 ms (a regression), 0.11.0 too."""
    steady = [0.40, 0.41, 0.39, 0.42, 0.40, 0.38]
    slow = [0.90, 0.91, 0.89, 0.92, 0.90, 0.88]
    return [
        _journal(tmp_path, "c", "0.10.0", slow, "2025-03-01T00:00:00+00:00"),
        _journal(tmp_path, "a", "0.9.0", steady, "2025-01-01T00:00:00+00:00"),
        _journal(tmp_path, "d", "0.11.0", slow, "2025-04-01T00:00:00+00:00"),
        _journal(tmp_path, "b", "0.9.5", [v + 0.005 for v in steady], "2025-02-01T00:00:00+00:00"),
    ]


def test_versions_order_as_numbers() -> None:
    assert sorted(["0.10.0", "0.9.5", "0.9.0", "1.0rc1"], key=version_key) == [
        "0.9.0",
        "0.9.5",
        "0.10.0",
        "1.0rc1",
    ]


def test_points_are_ordered_by_version_and_the_regression_is_where_compare_says(
    tmp_path: Path,
) -> None:
    points = [read_point(p) for p in _four(tmp_path)]
    t = trend(points, min_delta=0.025)
    assert t.order is Order.VERSION
    assert [p.version for p in t.points] == ["0.9.0", "0.9.5", "0.10.0", "0.11.0"]
    [series] = t.series
    assert series.metrics == ["recovery_spawned_s", "recovery_ready_s"]
    assert [round(v or 0, 3) for v in series.values["recovery_ready_s"]] == [0.4, 0.405, 0.9, 0.9]
    assert set(series.flags) == {("recovery_ready_s", 2)}
    # the very decision of compare, not another one
    row = next(
        r
        for r in compare(t.points[1].run, t.points[2].run, min_delta=0.025).scenarios
        if r.metric == "recovery_ready_s"
    )
    assert row.change is Change.REGRESSED
    assert series.flags[("recovery_ready_s", 2)].reason == row.reason


def test_order_falls_back_to_dates_then_to_the_files_given(tmp_path: Path) -> None:
    paths = _four(tmp_path)
    points = [read_point(p) for p in paths]
    same = [p.__class__(p.path, p.run, "0.1.0", p.commit, p.date) for p in points]
    t = trend(same)
    assert t.order is Order.DATE
    assert [p.path.parent.name for p in t.points] == ["a", "b", "c", "d"]
    t = trend(points, order=Order.FILES)
    assert [p.path.parent.name for p in t.points] == ["c", "a", "d", "b"]


def test_markdown_has_a_row_per_journal_and_marks_the_flagged_value(tmp_path: Path) -> None:
    t = trend([read_point(p) for p in _four(tmp_path)], min_delta=0.025)
    md = trend_to_markdown(t)
    lines = md.splitlines()
    assert lines[0].startswith("## 🔴 1 regression(s): trend over 4 journals, ordered by version")
    assert "| # | journal | spawned | ready |" in lines
    assert "| 3 | 0.10.0 | 50 ms | 900 ms 🔴 |" in lines
    assert "| 4 | 0.11.0 | 50 ms | 900 ms |" in lines
    assert any(line.startswith("🔴 point 3 (0.10.0), ready: median +") for line in lines)


def test_html_is_self_contained_and_rings_the_flagged_point(tmp_path: Path) -> None:
    t = trend([read_point(p) for p in _four(tmp_path)], min_delta=0.025)
    document = trend_to_html(t)
    assert "http" not in document.replace("http://www.w3.org", "")
    assert "<script" not in document
    svgs = re.findall(r'<svg class="trend".*?</svg>', document, flags=re.S)
    assert len(svgs) == 1, "phases only: these journals measured no availability"
    root = ET.fromstring(svgs[0])
    rings = root.findall(".//{*}circle[@class='regression']")
    assert len(rings) == 1
    assert "compare would flag a regression" in "".join(rings[0].itertext())
    assert "compare would flag a regression</span>" in document  # in the legend

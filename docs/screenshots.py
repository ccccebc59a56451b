"""Take the README's screenshots of the HTML report, in headless Chromium, as a reader sees it.

The report is rendered with today's code from the recorded 30-trial run in
``tests/data/reports`` (the one ``tests/e2e/test_report_in_a_browser.py`` checks), then
shot at 1400 and 800 px wide::

    python docs/screenshots.py      # writes docs/report.png and docs/report-800.png
"""

from __future__ import annotations

import gzip
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.browser import chromium, screenshot  # noqa: E402

from harness.report.html import to_html  # noqa: E402
from harness.results.journal import run_from_dict  # noqa: E402

JOURNAL = ROOT / "tests" / "data" / "reports" / "slow-restart-30-trials.journal.json.gz"
SHOTS = {"report.png": (1400, 1800), "report-800.png": (800, 1400)}


def main() -> int:
    if chromium() is None:
        sys.stderr.write("no Chromium here: apt-get install chromium\n")
        return 1
    run = run_from_dict(json.loads(gzip.decompress(JOURNAL.read_bytes())))
    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "report.html"
        page.write_text(to_html(run), encoding="utf-8")
        for name, (width, height) in SHOTS.items():
            sys.stdout.write(f"{screenshot(page, ROOT / 'docs' / name, width, height)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

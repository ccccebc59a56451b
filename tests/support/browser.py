"""Headless Chromium as a reader's browser: screenshots and measurements of a page.

No Python package: the ``chromium`` binary's own ``--screenshot`` and ``--dump-dom``. A
measurement is a small script appended to a copy of the page, run after the page's own
script; it writes what it measured as JSON into the DOM, which ``--dump-dom`` returns.
Every run gets a fresh profile and nothing that reaches the network.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)

MEASURE = """<script>(function () {
  var roles = {};
  [].forEach.call(document.querySelectorAll("rect.life"), function (r) {
    var role = r.getAttribute("data-role");
    (roles[role] = roles[role] || {})[getComputedStyle(r).fill] = 1;
  });
  var trials = [].slice.call(document.querySelectorAll("details.trial"));
  var shown = trials.filter(function (d) { return d.offsetParent !== null; });
  var sizes = [].map.call(document.querySelectorAll("svg.timeline text"), function (t) {
    return parseFloat(getComputedStyle(t).fontSize);
  });
  var chart = document.querySelector("svg.timeline");
  var found = {
    height: document.documentElement.scrollHeight,
    width: document.documentElement.scrollWidth,
    roles: Object.keys(roles).reduce(function (o, k) {
      o[k] = Object.keys(roles[k]);
      return o;
    }, {}),
    shown: shown.map(function (d) { return d.id; }),
    open: shown.filter(function (d) { return d.open; }).map(function (d) { return d.id; }),
    minFont: Math.min.apply(null, sizes),
    chartWidth: chart ? chart.getBoundingClientRect().width : 0
  };
  var out = document.createElement("pre");
  out.id = "measured";
  out.textContent = JSON.stringify(found);
  document.body.appendChild(out);
})();</script>"""


def chromium() -> str | None:
    """The Chromium binary on this machine, if any."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _run(url: str, *args: str, timeout: float = 120) -> str:
    binary = chromium()
    if binary is None:
        raise RuntimeError("no Chromium on this machine")
    with tempfile.TemporaryDirectory(prefix="browser-profile-") as profile:
        done = subprocess.run(
            [binary, *FLAGS, f"--user-data-dir={profile}", *args, url],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"chromium exited {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


def screenshot(page: Path, png: Path, width: int, height: int) -> Path:
    """What a reader sees of ``page`` in a window of ``width`` x ``height`` pixels."""
    png.parent.mkdir(parents=True, exist_ok=True)
    _run(page.resolve().as_uri(), f"--screenshot={png}", f"--window-size={width},{height}")
    return png


def measure(page: Path, width: int, query: str = "") -> dict[str, Any]:
    """Page height and width, role colours as drawn, trials shown and open, the smallest
    timeline label and the timeline's drawn width, at ``width`` px (``query``: ``?q=...``)."""
    copy = page.with_name(page.stem + ".measured.html")
    copy.write_text(
        page.read_text(encoding="utf-8").replace("</body>", MEASURE + "</body>"),
        encoding="utf-8",
    )
    try:
        dom = _run(copy.resolve().as_uri() + query, "--dump-dom", f"--window-size={width},1000")
    finally:
        copy.unlink()
    found = re.search(r'<pre id="measured">(.*?)</pre>', dom, flags=re.S)
    if found is None:
        raise RuntimeError("the measurement script did not run")
    text = found.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">")
    result: dict[str, Any] = json.loads(text.replace("&amp;", "&"))
    return result

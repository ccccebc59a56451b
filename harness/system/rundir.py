"""Trial folders that say who owns them, so a killed run's folders are removed by the next.

Each trial works in a fresh ``chaos-*`` folder under the temp directory. An owner file in
it names the harness (pid and start time, as the process marker does); a harness that was
SIGKILLed cannot remove its folders, so ``remove_stale`` does it on the next run, touching
only folders whose owner file names a harness that is gone.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from harness.system.marker import Marker, start_time
from harness.system.subreaper import harness_alive

OWNER_FILE = ".chaos-owner"
PREFIX = "chaos-"


def create(name: str) -> Path:
    """A fresh trial folder under the temp directory, with its owner file."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:40]
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{safe}-"))
    owner = {
        "trial": folder.name,
        "harness_pid": os.getpid(),
        "harness_start": start_time(os.getpid()),
    }
    (folder / OWNER_FILE).write_text(json.dumps(owner), encoding="utf-8")
    return folder


def remove_stale(root: Path | None = None) -> list[Path]:
    """Remove trial folders whose owning harness is no longer running; returns them."""
    base = Path(root or tempfile.gettempdir())
    removed: list[Path] = []
    for owner_file in base.glob(f"{PREFIX}*/{OWNER_FILE}"):
        try:
            owner = json.loads(owner_file.read_text(encoding="utf-8"))
            marker = Marker(
                trial_id=str(owner["trial"]),
                harness_pid=int(owner["harness_pid"]),
                harness_start=owner.get("harness_start"),
            )
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not ours, or half-written by a live harness: leave it
        if not harness_alive(marker):
            shutil.rmtree(owner_file.parent, ignore_errors=True)
            removed.append(owner_file.parent)
    return removed

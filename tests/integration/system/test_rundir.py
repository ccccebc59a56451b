"""Trial folders: a dead harness's folders are removed by the next run, nothing else is."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from harness.system import rundir


def test_only_folders_of_a_dead_harness_are_removed(tmp_path: Path) -> None:
    mine = rundir.create("mine")
    try:
        dead = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"],
            capture_output=True,
            text=True,
            check=True,
        )
        stale = tmp_path / "chaos-stale-x"
        stale.mkdir()
        owner = {"trial": stale.name, "harness_pid": int(dead.stdout), "harness_start": 1}
        (stale / rundir.OWNER_FILE).write_text(json.dumps(owner))
        unowned = tmp_path / "chaos-someone-elses"
        unowned.mkdir()
        live = tmp_path / "chaos-live"
        live.mkdir()
        (live / rundir.OWNER_FILE).write_text((mine / rundir.OWNER_FILE).read_text())

        removed = rundir.remove_stale(tmp_path)

        assert removed == [stale]
        assert not stale.exists()
        assert unowned.exists(), "a folder without our owner file is never touched"
        assert live.exists(), "a live harness's folder is never touched"
    finally:
        import shutil

        shutil.rmtree(mine)

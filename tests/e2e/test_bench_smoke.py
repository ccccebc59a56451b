"""bench/recovery.py at a tiny size: it still runs end to end on the harness's Python API.

Not a measurement (two kills mean nothing on a shared machine): a check that the benchmark
keeps working as the harness changes under it (``SystemSession``, ``recovers`` and its
per-fault phases, the tracker's roles), that every clock it reads agrees on which process
came back, and that it leaves nothing behind. The testbed and the floor need nothing
beyond ``.[dev]``; supervisord and circus come with ``.[bench]``, which CI does not
install, so that half is skipped there, saying why.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
TINY = ["--kills", "2", "--fleet", "3", "--rounds", "1", "--idle", "0.5", "--crash", "1"]


def installed(program: str) -> bool:
    return bool(shutil.which(program, path=str(Path(sys.executable).parent)))


def run_bench(out: Path, only: str) -> dict[str, Any]:
    argv = [sys.executable, "-m", "bench.recovery", "--only", only, *TINY, "--out", str(out)]
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    raw = json.loads((out / "recovery.json").read_text())
    assert raw["problems"] == {}, raw["problems"]
    assert isinstance(raw, dict)
    return raw


def assert_recovered(kills: list[dict[str, Any]], count: int, *, watched: bool) -> None:
    assert len(kills) == count
    for kill in kills:
        assert kill["died_s"] is not None
        assert kill["spawned_s"] is not None
        assert kill["ready_s"] >= kill["spawned_s"]
        if watched:  # the bench's own clock saw the same new process answer
            assert kill["same_pid"] is True
            assert kill["answered_s"] is not None


def test_bench_measures_the_testbed_beside_its_floor(tmp_path: Path) -> None:
    raw = run_bench(tmp_path, "floor,testbed,floor-modules")

    for key in ("floor", "testbed"):
        assert_recovered(raw["single"][key], 2, watched=True)
        assert raw["crash"][key]["starts"] >= 1
    assert_recovered(raw["fleet"]["floor"], 1, watched=True)
    for key in ("testbed", "floor-modules"):  # 3 modules: the supervisor's own clock
        (kill,) = raw["fleet"][key]
        assert kill["ready_s"] is not None
        assert kill["own_at"] is not None
    assert raw["orphans"]["testbed"]["left"] == 0  # its children die with it
    assert raw["orphans"]["floor"]["left"] == 3  # a bare respawner's children do not
    assert all(o["after_teardown"] == 0 for o in raw["orphans"].values())
    readme = (tmp_path / "recovery-readme.md").read_text()
    assert "| testbed |" in readme
    assert "Targets for the testbed, this run: median" in readme


@pytest.mark.skipif(
    not (installed("supervisord") and installed("circusd")),
    reason="supervisord and circusd not installed (pip install -e '.[bench]')",
)
def test_bench_measures_supervisord_and_circus(tmp_path: Path) -> None:
    raw = run_bench(tmp_path, "supervisord-startsecs0,circus-0.1")

    for key in ("supervisord-startsecs0", "circus-0.1"):
        assert_recovered(raw["single"][key], 2, watched=True)
        assert_recovered(raw["fleet"][key], 1, watched=True)
        assert raw["orphans"][key]["left"] == 3  # neither takes its children down with it
        assert raw["orphans"][key]["after_teardown"] == 0  # the harness swept them

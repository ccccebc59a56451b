"""200 MiB of output: the journal and the harness's memory stay bounded, the system is never
blocked, and the lines the scenario's patterns look for are still on the timeline."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from e2e_support import CHAOS, RUN_DEADLINE, Chaos, read_journal
from support import wait_until

from harness.system.marker import start_time

pytestmark = pytest.mark.e2e

MIB = 200
SCENARIO = """\
    name: flood
    timeout: 90s
    vars: {shape: lines}
    system:
      command: ["{python}", "{SYSTEMS}/flood.py", "200", "{shape}"]
      ready: {log: 'late marker', timeout: 60s}
      stop: {grace: 2s}
    duration: 500ms
    invariants:
      - log: {present: 'flooded \\d+ MiB', stream: stderr}
      - log: {absent: 'Traceback'}
    """


@dataclass(frozen=True)
class Measured:
    returncode: int
    wall_s: float
    max_rss_mib: float
    """Peak resident memory of chaos (and of the system, which is far smaller)."""


def _run_measured(chaos: Chaos, *args: str | Path) -> Measured:
    """``chaos ARGS`` with its peak memory, from the kernel's accounting of the child."""
    chaos.tmpdir.mkdir(exist_ok=True)
    with (chaos.home / "out.txt").open("wb") as out, (chaos.home / "err.txt").open("wb") as err:
        started = time.monotonic()
        proc = subprocess.Popen(
            [CHAOS, *map(str, args)], cwd=chaos.home, env=chaos.env(), stdout=out, stderr=err
        )
        chaos.harnesses[proc.pid] = start_time(proc.pid)
        status, usage = wait_until(
            lambda: _reaped(proc.pid), what="chaos to finish", timeout=RUN_DEADLINE
        )
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Measured(proc.returncode, time.monotonic() - started, usage.ru_maxrss / 1024)


def _reaped(pid: int) -> tuple[int, os.struct_rusage] | None:
    reaped, status, usage = os.wait4(pid, os.WNOHANG)
    return (status, usage) if reaped else None


@pytest.mark.parametrize("shape", ["lines", "line"])
def test_200_mib_of_output_is_drained_into_a_bounded_record(chaos: Chaos, shape: str) -> None:
    scenario = chaos.scenario("flood.yaml", SCENARIO)

    run = _run_measured(chaos, "run", scenario, "--var", f"shape={shape}", "--out", "out")

    err = (chaos.home / "err.txt").read_text(encoding="utf-8")
    assert run.returncode == 0, err
    journal_file = chaos.home / "out" / "journal.json"
    assert journal_file.stat().st_size < 8 * 1024 * 1024, "was 476 MB before output was bounded"
    assert run.max_rss_mib < 250, "was 3.9 GB before output was bounded"
    assert run.wall_s < 60, "was 105 s before output was bounded"
    trial = read_journal(journal_file)["scenarios"][0]["trials"][0]
    events = trial["events"]
    logs = [e for e in events if e["type"] == "log"]
    assert len(logs) <= 10_000 + 10
    assert "the late marker, after the flood" in [e["line"] for e in logs], (
        "past the budget, the line readiness waits for is still recorded"
    )
    flooded = next(e["line"] for e in logs if e["line"].startswith("flooded"))
    assert float(flooded.split()[-1].rstrip("s")) < 30, f"the system was held up: {flooded}"
    notes = [e["message"] for e in events if e["type"] == "note" and e["level"] == "warning"]
    if shape == "lines":
        assert any("(stdout)" in n and "not recorded" in n for n in notes), notes
    else:
        assert logs[0]["line"].endswith("[... cut by chaos: line longer than 65,536 characters]")
        assert any("1 lines longer than 65,536 characters cut" in n for n in notes), notes

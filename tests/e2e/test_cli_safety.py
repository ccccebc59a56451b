"""Safety: a role matching every command line still only reaches the system's own processes.

A canary started by the test (outside the system, not carrying a marker) records every
signal it receives. A scenario whose role regex is ``.*`` freezes and then SIGKILLs
``count: all`` of that role: the system's processes are hit, the canary is not.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from e2e_support import SYSTEMS, Chaos, read_journal
from support import wait_until

pytestmark = pytest.mark.e2e

GREEDY = """\
    name: greedy-role
    timeout: 30s
    system:
      command: ["{python}", "{SYSTEMS}/supervisor.py", --port, "{port}"]
      ready: {log: 'worker listening on \\d+', timeout: 20s}
      stop: {signal: SIGTERM, grace: 2s}
    roles:
      any: {cmdline: '.*'}
    faults:
      - at: 200ms
        freeze: {role: any, count: all, for: 300ms}
      - at: 800ms
        kill: {role: any, count: all, signal: SIGKILL}
    duration: 1500ms
    """


@pytest.fixture
def canary(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    record = tmp_path / "canary.log"
    proc = subprocess.Popen([sys.executable, str(SYSTEMS / "canary.py"), str(record)])
    try:
        wait_until(
            lambda: record.exists() and "ready" in record.read_text(encoding="utf-8"),
            what="the canary to start",
        )
        yield proc, record
    finally:
        proc.kill()
        proc.wait()


def test_greedy_role_never_touches_a_process_outside_the_system(
    chaos: Chaos, canary: tuple[subprocess.Popen[bytes], Path]
) -> None:
    proc, record = canary
    path = chaos.scenario("greedy.yaml", GREEDY)

    result = chaos.run("run", path)

    assert result.returncode in (0, 1), result
    assert proc.poll() is None, "the canary was killed"
    assert psutil.Process(proc.pid).status() != psutil.STATUS_STOPPED, "the canary was frozen"
    assert record.read_text(encoding="utf-8") == f"ready {proc.pid}\n", "the canary got signals"
    journal = read_journal(chaos.home / "reports" / "journal.json")
    (trial,) = journal["scenarios"][0]["trials"]
    faults = [e for e in trial["events"] if e["type"] == "fault" and e.get("pids")]
    hit = {int(pid) for e in faults for pid in e["pids"]}
    assert {e["kind"] for e in faults} >= {"freeze", "kill"}, "both faults acted"
    assert len(hit) >= 2, "the faults reached the supervisor and its worker"
    assert proc.pid not in hit

"""Resource faults through the CLI: ``worker-oom`` catches ``oom-clean-exit`` and passes on
the fixed testbed, the OOM kill is in the journal as such, and no cgroup (v2, or the v1
folders resource faults make) is left behind, even when the harness is SIGKILLed while a
limit is on (the guardian removes them). Skipped where the host has no memory or pids
controller (see ``chaos doctor``).
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest
from e2e_support import Chaos, read_journal
from support import wait_until

from harness.faults.resources import hierarchy
from harness.system.limits import Controller

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
MEMORY = hierarchy(Controller.MEMORY)
PIDS = hierarchy(Controller.PIDS)

HELD = """\
    name: held
    timeout: 60s
    system:
      command: ["{python}", "-c", "import signal; print('up', flush=True); signal.pause()"]
      ready: {log: '^up$'}
      stop: {grace: 2s}
    roles:
      app: {root: true}
    faults:
      - at: 0s
        pids_limit: {role: app, max: 4}
    duration: 30s
    invariants:
      - log: {present: '^up$'}
    """


def _actions(journal: dict[str, Any]) -> list[dict[str, Any]]:
    (scenario,) = journal["scenarios"]
    (trial,) = scenario["trials"]
    return [e for e in trial["events"] if e.get("type") == "fault"]


@pytest.mark.skipif(isinstance(MEMORY, str), reason=f"no memory limits here: {MEMORY}")
def test_worker_oom_passes_fixed_and_records_the_oom_kill(chaos: Chaos) -> None:
    result = chaos.run("run", ROOT / "scenarios" / "worker-oom.yaml", "--out", "fixed")
    assert result.returncode == 0, result
    actions = _actions(read_journal(chaos.home / "fixed" / "journal.json"))
    assert [a["phase"] for a in actions] == ["start", "instant", "end"]
    kill = actions[1]
    assert kill["effect"] == "ends"
    assert kill["detail"]["cause"] == "oom_kill"
    assert kill["pids"] == actions[0]["pids"]


@pytest.mark.skipif(isinstance(MEMORY, str), reason=f"no memory limits here: {MEMORY}")
def test_worker_oom_catches_oom_clean_exit(chaos: Chaos) -> None:
    scenario = ROOT / "scenarios" / "worker-oom.yaml"
    result = chaos.run("run", scenario, "--var", "bugs=oom-clean-exit", "--out", "bug")
    assert result.returncode == 1, result
    assert "recovers: worker not recovered after the memory_limit" in result.stdout


@pytest.mark.skipif(isinstance(PIDS, str), reason=f"no pids limits here: {PIDS}")
def test_a_killed_harness_leaves_no_limit_cgroup(chaos: Chaos) -> None:
    proc = chaos.start("run", chaos.scenario("held.yaml", HELD), "--out", "held")

    def limited() -> list[Path]:
        if proc.poll() is not None:
            pytest.fail(f"chaos ended early: {proc.communicate()}")
        return [g.path for g in chaos.run_cgroups() if any(g.path.glob("*-f0-p*"))]

    (group,) = wait_until(limited, what="the pids limit applied", interval=0.05)
    proc.send_signal(signal.SIGKILL)
    chaos.finish(proc)
    wait_until(lambda: not group.exists(), what="the guardian removing the limit's folder")

"""Disks as a user gets them from ``chaos run``: mounted for the trial, gone after it, and
gone after a harness that was SIGKILLed too (the next run sweeps them)."""

from __future__ import annotations

import signal

import pytest
from e2e_support import Chaos, read_journal, supervisor_scenario
from support import wait_until

from harness import disks
from harness.disks.mounts import SOURCE_PREFIX, mount_table

WHY = disks.available()
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(WHY is not None, reason=f"disks unavailable here: {WHY}"),
]

ON_DISK = """\
    name: on-disk
    timeout: 120s
    disks:
      data: {size: 1MiB}
    system:
      command: ["{python}", -c, "import sys, time; open(sys.argv[1] + '/f', 'w').write('x');
                 print('ready', flush=True); time.sleep(float(sys.argv[2]))",
                "{disk.data}", "SLEEP"]
      ready: {log: '^ready$', timeout: 20s}
      stop: {signal: SIGTERM, grace: 2s}
    roles:
      app: {root: true}
    faults:
      - {at: 100ms, disk_full: {disk: data, for: 200ms}}
    duration: DURATION
    """


def test_a_run_mounts_its_disk_and_leaves_none(chaos: Chaos) -> None:
    path = chaos.scenario("disk.yaml", ON_DISK.replace("SLEEP", "60").replace("DURATION", "1s"))
    result = chaos.run("run", path)
    assert result.returncode == 0, result
    journal = read_journal(chaos.home / "reports" / "journal.json")
    [trial] = journal["scenarios"][0]["trials"]
    phases = [e["phase"] for e in trial["events"] if e["type"] == "fault"]
    assert phases == ["start", "end"]
    assert chaos.mounts() == []


def test_the_disk_of_a_sigkilled_harness_is_swept_by_the_next_run(chaos: Chaos) -> None:
    path = chaos.scenario("disk.yaml", ON_DISK.replace("SLEEP", "90").replace("DURATION", "90s"))
    proc = chaos.start("run", path)
    wait_until(chaos.mounts, what="the trial's disk to be mounted")
    wait_until(
        lambda: any(m.fstype == "tmpfs" for m in mount_table() if m.point in chaos.mounts()),
        what="the tmpfs",
    )
    proc.kill()
    assert chaos.finish(proc).returncode == -signal.SIGKILL
    left = chaos.mounts()
    assert left, "a SIGKILLed harness cannot unmount: its disk is still there"
    owner = f"{SOURCE_PREFIX}{proc.pid}-"  # the dead harness's name is on its tmpfs
    assert all(m.source.startswith(owner) for m in mount_table() if m.point in left)

    small = chaos.scenario("small.yaml", supervisor_scenario("small", duration="500ms"))
    result = chaos.run("run", small, "--out", "next")

    assert result.returncode == 0, result
    assert chaos.mounts() == []
    assert not list(chaos.tmpdir.glob("chaos-on-disk-*"))  # and then its folder went too

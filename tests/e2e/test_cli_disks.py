"""Disks as a user gets them from ``chaos run``: mounted for the trial, gone after it, and
gone after a harness that was SIGKILLed too (its guardian unmounts them at once; the next
run sweeps what outlived the guardian as well)."""

from __future__ import annotations

import signal
import subprocess

import psutil
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


def _start_killable(chaos: Chaos) -> tuple[subprocess.Popen[str], list[str]]:
    path = chaos.scenario("disk.yaml", ON_DISK.replace("SLEEP", "90").replace("DURATION", "90s"))
    proc = chaos.start("run", path)
    wait_until(chaos.mounts, what="the trial's disk to be mounted")
    wait_until(
        lambda: any(m.fstype == "tmpfs" for m in mount_table() if m.point in chaos.mounts()),
        what="the tmpfs",
    )
    return proc, chaos.mounts()


def _guardian_of(pid: int) -> psutil.Process:
    guardians = [
        p
        for p in psutil.Process(pid).children()
        if any(part.endswith("guardian.py") for part in p.cmdline())
    ]
    assert len(guardians) == 1, guardians
    return guardians[0]


def test_the_guardian_unmounts_the_disk_of_a_sigkilled_harness(chaos: Chaos) -> None:
    proc, mounted = _start_killable(chaos)
    owner = f"{SOURCE_PREFIX}{proc.pid}-"  # the harness's name is on its tmpfs
    assert all(m.source.startswith(owner) for m in mount_table() if m.point in mounted)

    proc.kill()
    assert chaos.finish(proc).returncode == -signal.SIGKILL

    # No other run: the harness's guardian saw its pipe close and cleaned up.
    wait_until(lambda: chaos.mounts() == [], what="the guardian to unmount the disk", timeout=5)
    wait_until(
        lambda: not list(chaos.tmpdir.glob("chaos-on-disk-*")),
        what="the guardian to remove the trial folder",
        timeout=5,
    )


def test_a_disk_that_outlived_harness_and_guardian_is_swept_by_the_next_run(
    chaos: Chaos,
) -> None:
    proc, _ = _start_killable(chaos)
    guardian = _guardian_of(proc.pid)
    guardian.kill()  # the guardian first, so nobody is left to clean up
    wait_until(  # not our child: it stays a zombie until the harness dies
        lambda: guardian.status() == psutil.STATUS_ZOMBIE, what="the guardian to be killed"
    )
    proc.kill()
    assert chaos.finish(proc).returncode == -signal.SIGKILL
    left = chaos.mounts()
    assert left, "with its guardian gone too, the dead harness's disk stays mounted"

    small = chaos.scenario("small.yaml", supervisor_scenario("small", duration="500ms"))
    result = chaos.run("run", small, "--out", "next")

    assert result.returncode == 0, result
    assert chaos.mounts() == []
    assert not list(chaos.tmpdir.glob("chaos-on-disk-*"))  # and then its folder went too

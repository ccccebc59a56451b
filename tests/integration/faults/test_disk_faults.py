"""``disk_full`` and ``read_only`` on a real tmpfs, judged by what a real writer process sees.

The writer (``programs/disk_writer.py``) holds one file open from before the fault, opens
new files per command and commits SQLite rows, as a system under test would. Each test
asserts the errno it got during the fault, that every write works again after, and that
every byte written before is still there. Needs root (mount): skipped with the reason
otherwise.
"""

from __future__ import annotations

import hashlib
import os
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness import disks
from harness.disks import BALLOON, DiskSet
from harness.disks.mounts import (
    MS_NODEV,
    MS_NOSUID,
    mount,
    mounts_at,
    source_name,
    sweep_orphans,
    unmount_owned_by,
)
from harness.faults.base import Firing
from harness.faults.registry import FAULTS
from harness.observe.events import Event, FaultAction
from harness.spec.effects import Effect

from .context import RealContext

WHY = disks.available()
pytestmark = pytest.mark.skipif(WHY is not None, reason=f"disk faults unavailable here: {WHY}")

WRITER = Path(__file__).resolve().parents[1] / "programs" / "disk_writer.py"
DEADLINE = 30.0


class Writer:
    """The writer process: one command in, one answer out."""

    def __init__(self, folder: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(WRITER), str(folder)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.read() == "ready"

    def read(self) -> str:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], DEADLINE)
        assert ready, "the writer did not answer"
        return self.proc.stdout.readline().strip()

    def do(self, command: str) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.read()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(DEADLINE)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()


class Rig:
    """A 2 MiB disk ``data``, a fault context that knows it, and a writer on it."""

    def __init__(self, root: Path) -> None:
        self.disks = DiskSet()
        self.disk = self.disks.add("data", [0], root / "disks" / "data", 2 << 20)
        self.ctx = RealContext(seed=1, disks=self.disks)
        self.writer = Writer(self.disk.path)

    def fire(self, kind: str, options: dict[str, Any], index: int = 0) -> None:
        plugin = FAULTS.get(kind)
        spec = plugin.spec.model_validate({"disk": "data", **options})
        plugin.run(spec, self.ctx, Firing(index))

    def wait_end(self, index: int = 0) -> FaultAction:
        def ended(event: Event) -> bool:
            return isinstance(event, FaultAction) and event.fault == index and event.phase == "end"

        event = self.ctx.timeline.wait_for(ended, timeout=DEADLINE)
        assert isinstance(event, FaultAction), "the fault never ended"
        return event

    def actions(self) -> list[FaultAction]:
        return self.ctx.timeline.of(FaultAction)

    def close(self) -> None:
        try:
            self.writer.close()
        finally:
            self.ctx.close()


def checksums(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` but the balloon, by its SHA-256."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != BALLOON
    }


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    made = Rig(tmp_path)
    try:
        yield made
    finally:
        made.close()


def _write_precious(rig: Rig) -> dict[str, str]:
    for command in ("held 5000", "new precious.bin 30000", "sqlite 2000", "sqlite 2000"):
        assert rig.writer.do(command) == "ok"
    return checksums(rig.disk.path)


# --------------------------------------------------------------------------- disk_full


def test_disk_full_fails_every_write_that_needs_space_then_gives_it_back(rig: Rig) -> None:
    before = _write_precious(rig)
    rig.fire("disk_full", {"for": "1.5s"})

    [start] = rig.actions()
    assert (start.phase, start.effect, start.instance) == ("start", Effect.NONE, 0)
    assert start.detail["free_now"] == 0
    assert start.detail["balloon_bytes"] > 0
    assert rig.writer.do("held 8192") == "ENOSPC"  # a file open from before: full too
    assert rig.writer.do("new during.bin 8192") == "ENOSPC"
    assert rig.writer.do("sqlite 5000") == "sqlite: database or disk is full"

    end = rig.wait_end()
    assert end.detail["free_now"] > 0
    assert end.detail["early"] is False
    assert not (rig.disk.path / BALLOON).exists()
    for command in ("held 8192", "new after.bin 8192", "sqlite 5000"):
        assert rig.writer.do(command) == "ok"
    after = checksums(rig.disk.path)
    for name in ("precious.bin",):
        assert after[name] == before[name]  # untouched by the fault


def test_disk_full_until_teardown_when_no_for_is_given(rig: Rig) -> None:
    rig.fire("disk_full", {})
    assert rig.writer.do("new x.bin 8192") == "ENOSPC"
    rig.ctx.run_teardown()
    assert [(a.phase, a.detail.get("early")) for a in rig.actions()] == [
        ("start", None),
        ("end", True),
    ]
    assert rig.writer.do("new x.bin 8192") == "ok"


def test_a_second_fill_while_full_is_a_miss(rig: Rig) -> None:
    rig.fire("disk_full", {}, index=0)
    rig.fire("disk_full", {}, index=1)
    assert [(a.fault, a.phase) for a in rig.actions()] == [(0, "start"), (1, "miss")]
    assert "already full" in rig.actions()[1].detail["reason"]


def test_an_unknown_disk_is_a_miss(rig: Rig) -> None:
    plugin = FAULTS.get("read_only")
    plugin.run(plugin.spec.model_validate({"disk": "logs"}), rig.ctx, Firing(3))
    [miss] = rig.actions()
    assert (miss.fault, miss.phase) == (3, "miss")
    assert "no disk 'logs'" in miss.detail["reason"]


# --------------------------------------------------------------------------- read_only


def test_read_only_refuses_new_writes_and_lets_open_files_write(rig: Rig) -> None:
    before = _write_precious(rig)
    rig.fire("read_only", {"for": "1.5s"})

    assert rig.writer.do("new during.bin 10") == "EROFS"
    assert rig.writer.do("rename precious.bin moved.bin") == "EROFS"
    # Measured, and documented: a descriptor opened for writing before the fault keeps
    # writing (the kernel refuses a read-only remount while one is open), and so does the
    # SQLite connection the system already holds.
    assert rig.writer.do("held 100") == "ok"
    assert rig.writer.do("sqlite 100") == "ok"
    assert checksums(rig.disk.path)["precious.bin"] == before["precious.bin"]  # readable

    rig.wait_end()
    assert len(mounts_at(rig.disk.path)) == 1  # the read-only bind is gone
    assert rig.writer.do("new after.bin 10") == "ok"
    assert rig.writer.do("rename after.bin renamed.bin") == "ok"
    assert checksums(rig.disk.path)["precious.bin"] == before["precious.bin"]


def test_full_and_read_only_overlap_and_both_undo(rig: Rig) -> None:
    rig.fire("read_only", {}, index=0)
    rig.fire("disk_full", {}, index=1)  # the balloon goes in through the disk's own root
    assert rig.writer.do("new x 10") == "EROFS"
    rig.ctx.run_teardown()
    assert [a.phase for a in rig.actions()] == ["start", "start", "end", "end"]
    assert rig.writer.do("new x 8192") == "ok"
    assert len(mounts_at(rig.disk.path)) == 1


# --------------------------------------------------------------------------- the disk itself


def test_a_closed_disk_is_unmounted_and_keep_copies_its_files_out(tmp_path: Path) -> None:
    kept, dropped = DiskSet(), DiskSet()
    try:
        a = kept.add("a", [0], tmp_path / "a", 1 << 20)
        b = dropped.add("b", [0], tmp_path / "b", 1 << 20)
        for disk in (a, b):
            (disk.path / "sub").mkdir()
            (disk.path / "sub" / "f.txt").write_text("written on the tmpfs")
        a.fill()
    finally:
        assert kept.close(keep=True) == []
        assert dropped.close() == []
    assert mounts_at(tmp_path / "a") == []
    assert mounts_at(tmp_path / "b") == []
    assert (tmp_path / "a" / "sub" / "f.txt").read_text() == "written on the tmpfs"
    assert not (tmp_path / "a" / BALLOON).exists()
    assert list((tmp_path / "b").iterdir()) == []


def test_a_busy_disk_is_detached_lazily_and_said_so(tmp_path: Path) -> None:
    disks_ = DiskSet()
    disk = disks_.add("busy", [0], tmp_path / "busy", 1 << 20)
    writer = Writer(disk.path)
    try:
        problems = disks_.close()
    finally:
        writer.close()
    assert len(problems) == 1
    assert "busy" in problems[0]
    assert mounts_at(tmp_path / "busy") == []


def _dead_owner_source() -> str:
    """The source name a harness that is gone would have left on its tmpfs."""
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    try:
        name = source_name(child.pid)
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(DEADLINE)
    return name


def test_the_next_run_sweeps_the_disks_of_a_harness_that_was_killed(tmp_path: Path) -> None:
    folder = tmp_path / "left-behind"
    folder.mkdir()
    mount(_dead_owner_source(), folder, "tmpfs", MS_NOSUID | MS_NODEV, "size=65536")
    assert len(mounts_at(folder)) == 1
    assert str(folder) in sweep_orphans()
    assert mounts_at(folder) == []


def test_the_guardian_hook_unmounts_what_one_harness_mounted(tmp_path: Path) -> None:
    ours = DiskSet()
    try:
        disk = ours.add("g", [0], tmp_path / "g", 1 << 20)
        disk.make_read_only()  # stacked mounts go too
        assert unmount_owned_by(os.getpid()) == [str(disk.path)] * 2
        assert mounts_at(disk.path) == []
    finally:
        ours.close()

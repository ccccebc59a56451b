"""``forked_from``: a child that never execs is named the moment it is seen.

Without it such a child waits, undecided, for an exec that never comes: up to 2 s with
/proc scans (an idle child), which is why a kill early after ready found no worker.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from harness.observe.events import HarnessNote, NoteLevel, ProcessStart
from harness.system.tracker import RoleMatcher

from .rig import Rig, program, role

ROLES = [
    role("master", root=True),
    RoleMatcher(name="worker", forked_from="master"),
    role("helper", r"worker\.py"),
]
NAMED_WITHIN_S = 1.0
"""Well under the 2 s an idle un-exec'd child used to wait with /proc scans."""


@pytest.mark.parametrize("events", [False, True], ids=["scan", "netlink"])
def test_a_forked_child_is_named_at_once(make_rig: Callable[..., Rig], events: bool) -> None:
    rig = make_rig(ROLES, events=events)
    root = rig.launch(program("fork_stay.py"))
    child = int(rig.line(r"^forked (\d+)$").group(1))
    printed = time.monotonic()
    start = rig.wait(ProcessStart, lambda e: e.pid == child)
    assert time.monotonic() - printed < NAMED_WITHIN_S
    assert start.role == "worker"
    assert start.ppid == root.pid


def test_a_forked_child_that_execs_later_keeps_its_role_with_a_warning(
    make_rig: Callable[..., Rig],
) -> None:
    rig = make_rig(ROLES, events=True)
    rig.launch(program("fork_stay.py", "--exec-after", "0.3"))
    child = int(rig.line(r"^forked (\d+)$").group(1))
    assert rig.wait(ProcessStart, lambda e: e.pid == child).role == "worker"
    note = rig.wait(HarnessNote, lambda e: f"pid {child} was named" in e.message)
    assert note.level is NoteLevel.WARNING
    assert "worker.py" in note.message


def test_without_forked_from_the_exec_decides(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig([role("master", root=True), role("helper", r"worker\.py")], events=True)
    rig.launch(program("fork_stay.py", "--exec-after", "0.02"))
    child = int(rig.line(r"^forked (\d+)$").group(1))
    assert rig.wait(ProcessStart, lambda e: e.pid == child).role == "helper"

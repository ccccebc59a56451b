"""The pure parts of resource limits: v1 hierarchies from mountinfo, our own v1 cgroups,
the files each limit writes (v1 and v2), the OOM count, and the v2 layout on a folder.

The last tests run ``Limits`` over a plain folder laid out like a pure-v2 host: they check
which files the v2 path writes and in which cgroup (the kernel's answers are the
integration tests' business; this machine's v2 has no controllers to try it live).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.system import cgroups, limits
from harness.system.cgroups import Cgroup, Mount
from harness.system.containment import TrialCgroup
from harness.system.limits import Controller, Limits, oom_kills, parse_v1_mounts, parse_v1_own

MOUNTINFO = """\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""
PROC_CGROUP = """\
9:name=systemd:/
8:pids:/
4:memory:/process_api/abc
1:cpu,cpuacct:/user.slice
0::/
"""


def test_v1_hierarchies_are_read_from_mountinfo() -> None:
    assert parse_v1_mounts(MOUNTINFO) == {
        "cpu": Path("/sys/fs/cgroup/cpu,cpuacct"),
        "memory": Path("/sys/fs/cgroup/memory"),
        "pids": Path("/sys/fs/cgroup/pids"),
    }


def test_a_pure_v2_host_has_no_v1_hierarchy() -> None:
    pure = "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
    assert parse_v1_mounts(pure) == {}


def test_our_own_v1_cgroups_per_controller() -> None:
    own = parse_v1_own(PROC_CGROUP)
    assert own["memory"] == "/process_api/abc"
    assert own["cpu"] == own["cpuacct"] == "/user.slice"
    assert own["pids"] == "/"
    assert "" not in own


@pytest.mark.parametrize(
    ("controller", "version", "value", "files"),
    [
        (Controller.MEMORY, 2, 16 << 20, [("memory.max", "16777216"), ("memory.swap.max", "0")]),
        (
            Controller.MEMORY,
            1,
            16 << 20,
            [("memory.limit_in_bytes", "16777216"), ("memory.memsw.limit_in_bytes", "16777216")],
        ),
        (Controller.CPU, 2, 10, [("cpu.max", "10000 100000")]),
        (Controller.CPU, 1, 10, [("cpu.cfs_period_us", "100000"), ("cpu.cfs_quota_us", "10000")]),
        (Controller.CPU, 2, 250, [("cpu.max", "250000 100000")]),
        (Controller.PIDS, 2, 4, [("pids.max", "4")]),
        (Controller.PIDS, 1, 4, [("pids.max", "4")]),
    ],
)
def test_the_files_each_limit_writes(
    controller: Controller, version: int, value: int, files: list[tuple[str, str]]
) -> None:
    assert [(f, t) for f, t, _ in limits.settings(controller, version, value)] == files


def test_swap_limits_are_optional_the_limit_itself_is_not() -> None:
    required = {f: r for f, _, r in limits.settings(Controller.MEMORY, 1, 1 << 20)}
    assert required == {"memory.limit_in_bytes": True, "memory.memsw.limit_in_bytes": False}


def test_a_tiny_cpu_share_keeps_the_kernel_minimum_quota() -> None:
    assert limits.settings(Controller.CPU, 2, 1)[0][1] == "1000 100000"


def test_the_oom_count_of_either_version() -> None:
    v1 = "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n"
    v2 = "low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\noom_group_kill 0\n"
    assert oom_kills(1, v1) == 3
    assert oom_kills(2, v2) == 2
    assert oom_kills(1, "oom_kill_disable 0\nunder_oom 0\n") is None


def _fake_v2(root: Path, controllers: str = "cpu memory pids") -> tuple[Path, Cgroup]:
    """A folder laid out as a pure-v2 host with a run and a trial: root, chaos, run, trial."""
    (root / "cgroup.controllers").write_text(controllers)
    trial = root / "chaos" / "run-1-2-3-4" / "trial-x"
    for level in (root, root / "chaos", root / "chaos" / "run-1-2-3-4", trial):
        level.mkdir(exist_ok=True)
        (level / "cgroup.subtree_control").write_text("")
        if level != root:
            (level / "cgroup.type").write_text("domain")
    (trial / "i0").mkdir()
    return root / "chaos", Cgroup(trial)


def test_v2_limit_group_sits_beside_the_leaves_with_the_controller_enabled_above(
    tmp_path: Path,
) -> None:
    parent, trial = _fake_v2(tmp_path)
    limits._backends.cache_clear()
    trial_limits = Limits("x", "run-1-2-3-4", trial=trial, v2_parent=parent)
    backend = trial_limits.backend(Controller.MEMORY)
    assert not isinstance(backend, str)
    assert backend.version == 2
    group = trial_limits.open(Controller.MEMORY, "f0-p42", 42, 0)
    assert group.path == trial.path / "i0-f0-p42"
    for level in (tmp_path, parent, parent / "run-1-2-3-4", trial.path):
        assert (level / "cgroup.subtree_control").read_text() == "+memory", level
    group.apply(32 << 20)
    assert (group.path / "memory.max").read_text() == str(32 << 20)
    assert (group.path / "cgroup.procs").read_text() == "42"
    limits._backends.cache_clear()


def test_v2_without_the_controller_says_why(tmp_path: Path) -> None:
    parent, _ = _fake_v2(tmp_path, controllers="cpu")
    limits._backends.cache_clear()
    try:
        found = limits.backend_for(Controller.PIDS, parent)
        if isinstance(found, str):
            assert "pids" in found
        else:  # this host has a v1 pids hierarchy to fall back on
            assert found.version == 1
        cpu = limits.backend_for(Controller.CPU, parent)
        assert not isinstance(cpu, str)
        assert cpu.version == 2
    finally:
        limits._backends.cache_clear()


def test_a_process_in_a_limit_group_keeps_its_instance(monkeypatch: pytest.MonkeyPatch) -> None:
    mount = Mount(Path("/sys/fs/cgroup"))
    trial = TrialCgroup(Cgroup(Path("/sys/fs/cgroup/chaos/run-1-2-3-4/trial-x")), mount, 2)
    seen: dict[int, str] = {
        1: "/chaos/run-1-2-3-4/trial-x/i1-f0-p42",
        2: "/chaos/run-1-2-3-4/trial-x/i0-f3-p7/sub",
        3: "/chaos/run-1-2-3-4/trial-x/other",
        4: "/system.slice/i0-f0-p1",
    }
    monkeypatch.setattr(cgroups, "cgroup_of", seen.get)  # the /proc/PID/cgroup answers
    assert [trial.instance_of(pid) for pid in seen] == [1, 0, None, None]

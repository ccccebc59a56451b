"""Where the cgroup v2 hierarchy is and where chaos's cgroups go, from recorded host samples.

The samples are real ``/proc/self/mountinfo`` and ``/proc/self/cgroup`` texts of the
layouts the harness meets: this hybrid machine (v1 controllers, v2 at
``/sys/fs/cgroup/unified``), a pure-v2 desktop, a container with its own cgroup namespace,
one sharing the host's, and a v1-only host.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.system.cgroups import Mount, locate, own_path, parse_mountinfo
from harness.system.containment import RunName
from harness.system.host import PARENT_NAME, place

HYBRID_MOUNTINFO = """\
22 28 0:21 / /sys rw,nosuid,nodev,noexec,relatime - sysfs sysfs rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""
HYBRID_CGROUP = """\
9:name=systemd:/
8:pids:/
4:memory:/process_api/312a68f2b7c9bed6d5d5d474c03baaeb
1:cpu:/
0::/
"""

PURE_MOUNTINFO = """\
24 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
26 24 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 \
rw,nsdelegate,memory_recursiveprot
"""
PURE_CGROUP = (
    "0::/user.slice/user-1000.slice/user@1000.service/app.slice/"
    "app-org.gnome.Terminal.slice/vte-spawn-4f0c.scope\n"
)

CONTAINER_NS_MOUNTINFO = """\
700 650 0:63 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup rw,nsdelegate
"""
CONTAINER_NS_CGROUP = "0::/\n"

CONTAINER_HOSTNS_MOUNTINFO = """\
700 650 0:26 /system.slice/docker-ab12.scope /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw
"""
CONTAINER_HOSTNS_CGROUP = "0::/system.slice/docker-ab12.scope\n"

V1_ONLY_MOUNTINFO = """\
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
"""


def test_the_hybrid_layout_of_this_machine() -> None:
    mounts = parse_mountinfo(HYBRID_MOUNTINFO)
    assert mounts == [Mount(point=Path("/sys/fs/cgroup/unified"), root="/")]
    assert own_path(HYBRID_CGROUP) == "/", "the 0:: line, never a v1 controller's"
    mount, own = locate(mounts, own_path(HYBRID_CGROUP)) or (None, None)
    assert mount == mounts[0]
    assert own == Path("/sys/fs/cgroup/unified")


def test_a_pure_v2_desktop_session() -> None:
    mounts = parse_mountinfo(PURE_MOUNTINFO)
    assert [m.point for m in mounts] == [Path("/sys/fs/cgroup")]
    found = locate(mounts, own_path(PURE_CGROUP))
    assert found is not None
    assert found[1] == Path(
        "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice/"
        "app-org.gnome.Terminal.slice/vte-spawn-4f0c.scope"
    )


def test_a_container_with_its_own_cgroup_namespace() -> None:
    found = locate(parse_mountinfo(CONTAINER_NS_MOUNTINFO), own_path(CONTAINER_NS_CGROUP))
    assert found is not None
    assert found[1] == Path("/sys/fs/cgroup")


def test_a_container_mounting_the_hosts_cgroup_at_its_own() -> None:
    """The mount's root field names which cgroup its top shows: paths map through it."""
    mounts = parse_mountinfo(CONTAINER_HOSTNS_MOUNTINFO)
    assert mounts[0].root == "/system.slice/docker-ab12.scope"
    found = locate(mounts, own_path(CONTAINER_HOSTNS_CGROUP))
    assert found is not None
    assert found[1] == Path("/sys/fs/cgroup")
    mount = mounts[0]
    assert mount.dir_of("/system.slice/docker-ab12.scope/chaos/run-1") == Path(
        "/sys/fs/cgroup/chaos/run-1"
    )
    assert mount.path_of(Path("/sys/fs/cgroup/chaos/run-1")) == (
        "/system.slice/docker-ab12.scope/chaos/run-1"
    )
    assert mount.dir_of("/system.slice/other.scope") is None, "not shown by this mount"


def test_a_v1_only_host_has_no_v2_hierarchy() -> None:
    assert parse_mountinfo(V1_ONLY_MOUNTINFO) == []
    assert locate([], "/") is None
    assert own_path("4:memory:/x\n1:cpu:/\n") is None


def test_mount_points_with_escaped_characters_and_a_deleted_cgroup() -> None:
    (mount,) = parse_mountinfo("41 31 0:38 / /mnt/cgroup\\040two rw - cgroup2 none rw\n")
    assert mount.point == Path("/mnt/cgroup two")
    assert mount.dir_of("/gone.scope (deleted)") is None
    assert locate([mount], "/gone.scope (deleted)") == (mount, None)


def test_cgroup_paths_and_directories_are_inverse() -> None:
    mount = Mount(point=Path("/sys/fs/cgroup/unified"), root="/")
    directory = Path("/sys/fs/cgroup/unified/chaos/run-1-2-3-4/trial-x/i0")
    assert mount.path_of(directory) == "/chaos/run-1-2-3-4/trial-x/i0"
    assert mount.dir_of(mount.path_of(directory)) == directory
    assert mount.path_of(mount.point) == "/"


# ---------------------------------------------------------------------- placement

ROOT = Mount(point=Path("/sys/fs/cgroup"), root="/")
SESSION = Path("/sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope")


@pytest.mark.parametrize(
    ("writable", "own", "expected"),
    [
        pytest.param(
            {ROOT.point}, SESSION, ROOT.point / PARENT_NAME, id="root: beside system.slice"
        ),
        pytest.param({SESSION}, SESSION, SESSION / PARENT_NAME, id="a delegated scope"),
        pytest.param(set(), SESSION, None, id="neither: the marker fallback"),
        pytest.param(set(), None, None, id="our own cgroup is not shown"),
    ],
)
def test_where_the_chaos_parent_goes(
    writable: set[Path], own: Path | None, expected: Path | None
) -> None:
    parent, why = place(ROOT, own, writable=lambda p: p in writable, uid=1000)
    assert parent == expected
    if expected is None:
        assert "uid 1000" in why
        assert "Delegate=yes" in why, "says what to do"
    else:
        assert str(expected) in why


def test_root_without_a_writable_mount_is_told_why() -> None:
    parent, why = place(ROOT, SESSION, writable=lambda p: False, uid=0)
    assert parent is None
    assert "read-only" in why


def test_a_hybrid_host_as_root_uses_the_v2_mount_not_sys_fs_cgroup() -> None:
    mount = Mount(point=Path("/sys/fs/cgroup/unified"))
    parent, _ = place(mount, mount.point, writable=lambda p: True)
    assert parent == Path("/sys/fs/cgroup/unified/chaos")


# ---------------------------------------------------------------------- run names


@given(
    st.integers(0, 2**32),
    st.integers(1, 2**22),
    st.integers(0, 2**40),
    st.integers(1, 10**6),
)
def test_a_run_cgroup_name_says_whose_it_is(pidns: int, pid: int, start: int, seq: int) -> None:
    name = RunName(pidns, pid, start, seq)
    assert RunName.parse(str(name)) == name


@pytest.mark.parametrize(
    "name", ["run-1-2-3", "trial-abc", "run-a-1-2-3", "probe-12", "run-1-2-3-4-5"]
)
def test_other_names_are_not_run_cgroups(name: str) -> None:
    assert RunName.parse(name) is None

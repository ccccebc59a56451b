"""The kernel's mount table as the disks read it: the ledger of what the harness mounted."""

from __future__ import annotations

from harness.disks.mounts import SOURCE_PREFIX, parse_mountinfo

TABLE = (
    "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
    "43 27 0:40 / /tmp/chaos-x/i0/disks/my\\040data rw,nosuid,nodev shared:5 - tmpfs "
    f"{SOURCE_PREFIX}4242-9001 rw,size=1024k\n"
    "44 43 0:40 / /tmp/chaos-x/i0/disks/my\\040data ro,relatime shared:5 - tmpfs "
    f"{SOURCE_PREFIX}4242-9001 ro,size=1024k\n"
    "garbage line\n"
)


def test_entries_in_table_order_with_escapes_and_optional_fields() -> None:
    entries = parse_mountinfo(TABLE)
    assert [e.mount_id for e in entries] == [27, 43, 44]
    root, disk, overlay = entries
    assert (root.point, root.fstype, root.source) == ("/", "ext4", "/dev/vda")
    assert disk.point == "/tmp/chaos-x/i0/disks/my data"
    assert disk.source == f"{SOURCE_PREFIX}4242-9001"
    assert (disk.read_only, overlay.read_only) == (False, True)
    assert overlay.point == disk.point  # stacked: the later one is on top


def test_an_empty_or_foreign_table_has_no_entries() -> None:
    assert parse_mountinfo("") == []
    assert parse_mountinfo("not a mountinfo line at all\n") == []

"""Role matching, pure: ``forked_from`` names un-exec'd children of a role, nothing else."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from harness.system.readiness import check_roles
from harness.system.roles import Lineage, RoleMatcher, names_forked, resolve_role

ARGV = ["python", "server.py", "--workers", "3"]
ROLES = [
    RoleMatcher(name="master", root=True),
    RoleMatcher(name="worker", forked_from="master"),
    RoleMatcher(name="helper", cmdline=re.compile(r"server\.py")),
]


def _role(lineage: Lineage, *, root: bool = False, argv: list[str] = ARGV) -> str | None:
    return resolve_role(ROLES, root=root, cmdline=argv, exe=lambda: None, lineage=lineage)


def test_a_forked_child_of_the_role_is_named_by_forked_from() -> None:
    assert _role(Lineage(parent_role="master", forked=True)) == "worker"


def test_an_execd_child_is_not_named_by_forked_from() -> None:
    assert _role(Lineage(parent_role="master", forked=False)) == "helper"


def test_a_forked_child_of_another_role_is_not_named_by_forked_from() -> None:
    assert _role(Lineage(parent_role="helper", forked=True)) == "helper"
    assert _role(Lineage(parent_role=None, forked=True)) == "helper"


def test_the_root_keeps_its_role() -> None:
    assert _role(Lineage(), root=True) == "master"


def test_forked_from_with_a_command_line_needs_both() -> None:
    only_w = RoleMatcher(name="w", forked_from="m", cmdline=re.compile("worker"))
    forked = Lineage(parent_role="m", forked=True)
    argv = ["python", "server.py"]
    assert not only_w.matches(root=False, cmdline=argv, exe=lambda: None, lineage=forked)
    argv = ["nginx: worker process"]
    assert only_w.matches(root=False, cmdline=argv, exe=lambda: None, lineage=forked)


def test_names_forked_only_for_a_role_some_forked_from_names() -> None:
    assert names_forked(ROLES, "master")
    assert not names_forked(ROLES, "helper")
    assert not names_forked(ROLES, None)


@given(st.sampled_from(["master", "helper", None]), st.booleans(), st.booleans())
def test_forked_from_matches_exactly_forked_children_of_its_role(
    parent: str | None, forked: bool, root: bool
) -> None:
    matcher = RoleMatcher(name="worker", forked_from="master")
    got = matcher.matches(
        root=root, cmdline=ARGV, exe=lambda: None, lineage=Lineage(parent, forked)
    )
    assert got == (forked and parent == "master")


def test_check_roles_passes_at_the_counts_and_names_what_is_short() -> None:
    live = {"worker": 2, "master": 1}
    assert check_roles((("worker", 2), ("master", 1)), lambda r: live.get(r, 0)) is None
    assert (
        check_roles((("worker", 3), ("master", 1), ("x", 1)), lambda r: live.get(r, 0))
        == "roles: worker 2 of 3, x 0 of 1 live"
    )

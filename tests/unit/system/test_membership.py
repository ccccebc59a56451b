"""Membership is a pure function of a sighting: each rule by example, then as properties.

The sources past /proc scans (the trial's cgroup, kernel fork and exec events) are fields
of the same record; with them unset (``None``) every rule is today's.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.system.marker import Marker
from harness.system.membership import (
    Action,
    Basis,
    Decision,
    Reason,
    Sighting,
    Via,
    decide,
    pid_reused,
    runs_parent_image,
    screen,
)

HARNESS = 100
PARENT = 200  # a tracked process of instance 3
TRIAL = "t-this"
OURS = Marker(trial_id=TRIAL, harness_pid=HARNESS, instance=1)
THEIRS = Marker(trial_id="t-other", harness_pid=HARNESS, instance=1)
PARENT_ARGV = ("supervisor", "--conf", "a.toml")
HARNESS_ARGV = ("python", "-m", "harness")

CHILD = Sighting(
    pid=300,
    listed_under=PARENT,
    harness=HARNESS,
    instance=3,
    parent_cmdline=PARENT_ARGV,
    trials=frozenset({TRIAL}),
    held=True,
    state="S",
    ppid=PARENT,
    marker=OURS,
    cmdline=("worker", "--id", "1"),
    parent_cmdline_now=PARENT_ARGV,
)
"""A new, exec'd child of a tracked process, read with its pidfd held."""

ORPHAN = replace(
    CHILD,
    listed_under=HARNESS,
    instance=0,
    parent_cmdline=None,
    ppid=HARNESS,
    parent_cmdline_now=HARNESS_ARGV,
    cmdline=("daemon",),
)
"""A marked process of this trial found by the orphan scan (a child of the harness)."""

TRACK_DESCENT = Decision(Action.TRACK, basis=Basis.DESCENT, instance=3)
PENDING_DESCENT = Decision(Action.PENDING, basis=Basis.DESCENT, instance=3)

SCRUBBED = replace(CHILD, marker=None, ppid=1, cmdline=("sleep", "306"), in_cgroup=True)
"""``setsid -f env -i sleep 306``: no marker, re-parented to pid 1, in the trial's cgroup."""
LISTED = replace(SCRUBBED, via=Via.CGROUP, listed_under=1, instance=2, cgroup_instance=2)
"""The same daemon found by the cgroup listing (its leaf is instance 2's)."""
FORKED = replace(CHILD, via=Via.FORK, ppid=1, marker=None, exec_seen=False)
"""A child named by a kernel fork event of PARENT, whose parent has exited since."""
TRACK_CGROUP = Decision(Action.TRACK, basis=Basis.CGROUP, instance=3)


def skipped(reason: Reason) -> Decision:
    return Decision(Action.SKIP, reason=reason)


CASES: list[tuple[str, Sighting, dict[str, Any], Decision]] = [
    # under a tracked parent
    ("an exec'd child of its listing parent", CHILD, {}, TRACK_DESCENT),
    ("already live or pending", CHILD, {"known": True}, skipped(Reason.KNOWN)),
    (
        "a zombie whose exit is recorded",
        CHILD,
        {"exit_recorded": True, "state": "Z", "cmdline": ()},
        skipped(Reason.EXIT_RECORDED),
    ),
    (
        "a recorded exit, gone since",
        CHILD,
        {"exit_recorded": True, "state": None},
        skipped(Reason.EXIT_RECORDED),
    ),
    ("a recorded exit, alive now: pid recycled", CHILD, {"exit_recorded": True}, TRACK_DESCENT),
    ("no pidfd could be opened", CHILD, {"held": False}, skipped(Reason.GONE)),
    ("gone after the pidfd opened", CHILD, {"state": None, "ppid": None}, skipped(Reason.GONE)),
    ("a zombie not seen exit yet", CHILD, {"state": "Z", "cmdline": ()}, PENDING_DESCENT),
    ("dying, whatever it read", CHILD, {"state": "X"}, PENDING_DESCENT),
    ("now a child of someone else", CHILD, {"ppid": 1}, skipped(Reason.MOVED)),
    (
        "re-parented to the harness, marked: kept with the listing's instance",
        CHILD,
        {"ppid": HARNESS},
        Decision(Action.TRACK, basis=Basis.MARKER, instance=3),
    ),
    (
        "re-parented to the harness, unmarked",
        CHILD,
        {"ppid": HARNESS, "marker": None},
        skipped(Reason.FOREIGN),
    ),
    (
        "re-parented to the harness, another trial's",
        CHILD,
        {"ppid": HARNESS, "marker": THEIRS},
        skipped(Reason.FOREIGN),
    ),
    ("mid-exec: an empty command line", CHILD, {"cmdline": ()}, PENDING_DESCENT),
    ("unreadable command line", CHILD, {"cmdline": None}, PENDING_DESCENT),
    ("forked, not exec'd: the parent's argv", CHILD, {"cmdline": PARENT_ARGV}, PENDING_DESCENT),
    (
        "the parent exec'd since it was recorded",
        CHILD,
        {"cmdline": ("supervisord",), "parent_cmdline_now": ("supervisord",)},
        PENDING_DESCENT,
    ),
    (
        "the parent's argv recorded mid-exec (empty)",
        CHILD,
        {"parent_cmdline": (), "parent_cmdline_now": None},
        TRACK_DESCENT,
    ),
    ("the foreign cache is the orphan scan's only", CHILD, {"foreign": True}, TRACK_DESCENT),
    ("a launch does not hold back descendants", CHILD, {"launching": True}, TRACK_DESCENT),
    ("descent needs no marker", CHILD, {"marker": None, "trials": frozenset()}, TRACK_DESCENT),
    # found by the orphan scan
    (
        "an orphan of this trial",
        ORPHAN,
        {},
        Decision(Action.TRACK, basis=Basis.MARKER, instance=1),
    ),
    (
        "an orphan whose marker names no instance",
        ORPHAN,
        {"marker": replace(OURS, instance=None)},
        Decision(Action.TRACK, basis=Basis.MARKER, instance=0),
    ),
    (
        "an orphan's instance is its marker's, never a listing's",
        ORPHAN,
        {"instance": 5},
        Decision(Action.TRACK, basis=Basis.MARKER, instance=1),
    ),
    ("an unmarked child of the harness", ORPHAN, {"marker": None}, skipped(Reason.FOREIGN)),
    ("another trial's root", ORPHAN, {"marker": THEIRS}, skipped(Reason.FOREIGN)),
    ("no trial known yet", ORPHAN, {"trials": frozenset()}, skipped(Reason.FOREIGN)),
    ("already found foreign", ORPHAN, {"foreign": True}, skipped(Reason.FOREIGN)),
    ("a root being launched", ORPHAN, {"launching": True}, skipped(Reason.LAUNCHING)),
    (
        "another trial's during a launch: foreign, so it is not looked at again",
        ORPHAN,
        {"launching": True, "marker": THEIRS},
        skipped(Reason.FOREIGN),
    ),
    ("the pid moved on (recycled)", ORPHAN, {"ppid": 1}, skipped(Reason.MOVED)),
    (
        "forked by the harness, not exec'd",
        ORPHAN,
        {"cmdline": HARNESS_ARGV},
        Decision(Action.PENDING, basis=Basis.MARKER, instance=1),
    ),
    ("an orphan already adopted", ORPHAN, {"known": True}, skipped(Reason.KNOWN)),
    # in the trial's cgroup: a fact, whatever it did
    ("scrubbed, re-parented to pid 1, in the cgroup", SCRUBBED, {}, TRACK_CGROUP),
    (
        "in the cgroup: the leaf names the instance",
        SCRUBBED,
        {"cgroup_instance": 1},
        Decision(Action.TRACK, basis=Basis.CGROUP, instance=1),
    ),
    (
        "an unmarked orphan of the harness, in the cgroup",
        ORPHAN,
        {"marker": None, "in_cgroup": True, "cgroup_instance": 0},
        Decision(Action.TRACK, basis=Basis.CGROUP, instance=0),
    ),
    (
        "an orphan in the cgroup while a root is launched",
        ORPHAN,
        {"in_cgroup": True, "launching": True},
        skipped(Reason.LAUNCHING),
    ),
    (
        "a child that left the cgroup is still a descendant",
        CHILD,
        {"in_cgroup": False},
        TRACK_DESCENT,
    ),
    (
        "in the cgroup, still a zombie: pending",
        SCRUBBED,
        {"state": "Z", "cmdline": ()},
        replace(TRACK_CGROUP, action=Action.PENDING),
    ),
    ("in the cgroup, but gone", SCRUBBED, {"state": None}, skipped(Reason.GONE)),
    # found by the cgroup's listing
    ("listed by the cgroup", LISTED, {}, Decision(Action.TRACK, basis=Basis.CGROUP, instance=2)),
    ("listed, out of the cgroup when read", LISTED, {"in_cgroup": False}, skipped(Reason.MOVED)),
    (
        "listed: the root being launched (a child of the harness)",
        LISTED,
        {"ppid": HARNESS, "launching": True},
        skipped(Reason.LAUNCHING),
    ),
    (
        "listed: a child of the harness between launches",
        LISTED,
        {"ppid": HARNESS},
        Decision(Action.TRACK, basis=Basis.CGROUP, instance=2),
    ),
    ("listed: already live", LISTED, {"known": True}, skipped(Reason.KNOWN)),
    # named by a kernel fork event
    ("forked, parent gone since, no marker", FORKED, {}, TRACK_DESCENT),
    ("forked: a launch does not hold it back", FORKED, {"launching": True}, TRACK_DESCENT),
    ("forked, gone before the pidfd", FORKED, {"held": False}, skipped(Reason.GONE)),
    ("forked, not exec'd", FORKED, {"cmdline": PARENT_ARGV}, PENDING_DESCENT),
    (
        "forked, but out of the trial's cgroup: not a member's child",
        FORKED,
        {"in_cgroup": False},
        skipped(Reason.MOVED),
    ),
    # exec events
    (
        "exec seen: its own argv, even if it reads like its parent's (sh exec'ing sh)",
        FORKED,
        {"cmdline": PARENT_ARGV, "exec_seen": True},
        TRACK_DESCENT,
    ),
    (
        "exec seen, but mid-replacement (empty)",
        FORKED,
        {"cmdline": (), "exec_seen": True},
        PENDING_DESCENT,
    ),
    ("exec seen, but dead", FORKED, {"state": "Z", "exec_seen": True}, PENDING_DESCENT),
    ("no exec seen, an argv of its own (setproctitle)", FORKED, {"cmdline": ("w",)}, TRACK_DESCENT),
]


@pytest.mark.parametrize(
    ("base", "changes", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_each_rule(base: Sighting, changes: dict[str, Any], expected: Decision) -> None:
    assert decide(replace(base, **changes)) == expected


def test_screen_skips_without_a_pidfd() -> None:
    def flags(**changes: Any) -> dict[str, Any]:
        return {"known": False, "foreign": False, "exit_recorded": False, "state": None} | changes

    assert screen(**flags()) is None, "a new pid: open a pidfd and look"
    assert screen(**flags(known=True)) is Reason.KNOWN
    assert screen(**flags(foreign=True)) is Reason.FOREIGN
    assert screen(**flags(exit_recorded=True, state="Z")) is Reason.EXIT_RECORDED
    assert screen(**flags(exit_recorded=True, state=None)) is Reason.EXIT_RECORDED
    assert screen(**flags(exit_recorded=True, state="R")) is None, "its pid was recycled"


def test_a_recorded_exit_is_forgotten_only_for_a_live_process_held() -> None:
    assert pid_reused(replace(CHILD, exit_recorded=True))
    assert not pid_reused(CHILD), "nothing to forget"
    assert not pid_reused(replace(CHILD, exit_recorded=True, state="Z")), "the same zombie"
    assert not pid_reused(replace(CHILD, exit_recorded=True, state=None)), "gone"
    assert not pid_reused(replace(CHILD, exit_recorded=True, held=False)), "read unheld"


# ---------------------------------------------------------------------- properties

pids = st.sampled_from([1, HARNESS, PARENT, 300])
argvs = st.sampled_from([None, (), PARENT_ARGV, HARNESS_ARGV, ("worker",), ("daemon",)])
markers = st.sampled_from(
    [None, OURS, THEIRS, replace(OURS, instance=None), replace(OURS, instance=7)]
)
sightings = st.builds(
    Sighting,
    pid=st.just(300),
    listed_under=st.sampled_from([HARNESS, PARENT]),
    harness=st.just(HARNESS),
    instance=st.integers(0, 4),
    parent_cmdline=argvs,
    known=st.booleans(),
    exit_recorded=st.booleans(),
    foreign=st.booleans(),
    launching=st.booleans(),
    trials=st.sampled_from([frozenset(), frozenset({TRIAL}), frozenset({TRIAL, "t-more"})]),
    held=st.booleans(),
    state=st.sampled_from([None, "R", "S", "D", "T", "t", "Z", "X"]),
    ppid=st.one_of(st.none(), pids),
    marker=markers,
    cmdline=argvs,
    parent_cmdline_now=argvs,
    via=st.sampled_from(list(Via)),
    in_cgroup=st.sampled_from([None, False, True]),
    cgroup_instance=st.sampled_from([None, 0, 2]),
    exec_seen=st.sampled_from([None, False, True]),
)


@given(sightings)
def test_a_ruling_is_a_skip_with_a_reason_or_a_member_with_basis_and_instance(
    s: Sighting,
) -> None:
    decision = decide(s)
    if decision.action is Action.SKIP:
        assert decision.reason is not None
        assert (decision.basis, decision.instance) == (None, None)
    else:
        assert decision.reason is None
        assert decision.basis is not None
        assert decision.instance is not None


@given(sightings)
def test_decide_begins_with_screen(s: Sighting) -> None:
    early = screen(
        known=s.known, foreign=s.orphan and s.foreign, exit_recorded=s.exit_recorded, state=s.state
    )
    if early is not None:
        assert decide(s) == Decision(Action.SKIP, reason=early)


@given(sightings)
def test_known_gone_or_unread_pids_are_never_members(s: Sighting) -> None:
    if s.known or not s.held or s.state is None:
        assert not decide(s).member


@given(sightings)
def test_a_zombie_is_never_tracked_and_skipped_once_its_exit_is_recorded(s: Sighting) -> None:
    if s.state in ("Z", "X"):
        decision = decide(s)
        assert decision.action is not Action.TRACK, "its role is decided only at its exit"
        if s.exit_recorded:
            assert decision.action is Action.SKIP
            if not (s.known or (s.orphan and s.foreign)):
                assert decision.reason is Reason.EXIT_RECORDED


@given(sightings)
def test_a_child_of_the_harness_is_adopted_only_with_this_trials_marker_never_in_a_launch(
    s: Sighting,
) -> None:
    decision = decide(s)
    if s.orphan and decision.member:
        assert not s.launching
        if s.in_cgroup:
            assert decision.basis is Basis.CGROUP
            return
        assert s.marker is not None
        assert s.marker.trial_id in s.trials
        assert not s.launching
        assert s.ppid == HARNESS
        assert decision.basis is Basis.MARKER
        assert decision.instance == (s.marker.instance or 0)


@given(sightings)
def test_every_member_is_in_the_cgroup_forked_a_descendant_still_or_marked(s: Sighting) -> None:
    decision = decide(s)
    if decision.basis is Basis.CGROUP:
        assert s.in_cgroup
        assert decision.instance == (s.instance if s.cgroup_instance is None else s.cgroup_instance)
    elif decision.basis is Basis.DESCENT:
        assert not s.orphan
        assert s.via is Via.FORK or s.ppid == s.listed_under
        assert s.via is not Via.CGROUP
        assert s.in_cgroup is not False or s.via is not Via.FORK
        assert decision.instance == s.instance
    elif decision.basis is Basis.MARKER:
        assert s.via is Via.CHILDREN
        assert s.ppid == HARNESS
        assert s.marker is not None
        assert s.marker.trial_id in s.trials


@given(sightings)
def test_the_cgroup_makes_membership_a_fact(s: Sighting) -> None:
    """In the cgroup, alive, new: a member whatever its parent, marker or environment."""
    adoptable = s.orphan or (s.via is Via.CGROUP and s.ppid == HARNESS)
    new = not (s.known or (s.orphan and s.foreign) or s.exit_recorded)
    if s.in_cgroup and s.held and s.state is not None and new and not (adoptable and s.launching):
        decision = decide(s)
        assert decision.member
        assert decision.basis is Basis.CGROUP
    if s.via is Via.CGROUP and not s.in_cgroup:
        assert not decide(s).member, "listed by the cgroup, not in it: gone or moved"


@given(sightings)
def test_an_exec_seen_settles_the_role_unless_the_image_is_unreadable(s: Sighting) -> None:
    decision = decide(s)
    if decision.member and s.exec_seen and s.cmdline and s.state not in ("Z", "X"):
        assert decision.action is Action.TRACK


@given(sightings)
def test_a_source_that_says_no_rules_as_one_not_in_use(s: Sighting) -> None:
    """Out of the cgroup, no exec seen: the marker/ancestry rules decide, as without them."""
    if s.via is not Via.CHILDREN:
        return
    unused = replace(s, in_cgroup=None, cgroup_instance=None, exec_seen=None)
    said_no = replace(s, in_cgroup=False, cgroup_instance=None, exec_seen=False)
    assert decide(said_no) == decide(unused)


@given(sightings)
def test_a_child_showing_its_parents_argv_is_pending_never_tracked(s: Sighting) -> None:
    decision = decide(s)
    if not s.cmdline or (not s.exec_seen and s.cmdline in (s.parent_cmdline, s.parent_cmdline_now)):
        assert decision.action is not Action.TRACK
    decisive = s.held and s.state in ("R", "S") and not (s.known or s.exit_recorded)
    same = s.cmdline == s.parent_cmdline
    descent = s.via is Via.CHILDREN and not s.orphan and s.ppid == s.listed_under
    if decisive and descent and same and not s.in_cgroup and not s.exec_seen:
        assert decision.action is Action.PENDING


@given(sightings)
def test_a_launch_or_a_lost_trial_never_adds_a_member(s: Sighting) -> None:
    member = decide(s).member
    assert not decide(replace(s, launching=True)).member or member
    assert not decide(replace(s, trials=frozenset())).member or member
    assert not decide(replace(s, known=True)).member


@given(sightings)
def test_a_recorded_exit_is_forgotten_only_when_the_pid_is_alive_again(s: Sighting) -> None:
    if pid_reused(s):
        assert s.exit_recorded
        assert s.held
        assert s.state not in (None, "Z", "X")


def test_a_child_runs_its_parents_image_until_it_execs() -> None:
    master, worker = ["nginx", "-g", "daemon off;"], ["nginx: worker process"]
    assert runs_parent_image(master, None, (master, None))
    assert runs_parent_image(master, False, (["sh", "-c", "exec nginx"], master))  # parent now
    assert not runs_parent_image(master, True, (master, master))  # an exec was seen
    assert not runs_parent_image(worker, None, (master, master))
    assert not runs_parent_image([], None, ([], []))  # mid-exec: on its way out

"""Whether a newly seen pid belongs to the trial: ``decide(sighting) -> Decision``, pure.

The tracker finds pids four ways (``Via``): listing the children of every tracked process,
listing the children of the harness (the orphan scan), listing the trial's cgroup, and a
kernel fork event naming a watched parent. For each pid it does not know yet it gathers a
``Sighting``: what it knows about the pid (under its lock) and what /proc says, read with a
pidfd held so every read is about one process, never a recycled pid. This module rules on
that record; the tracker does all the I/O and carries the ruling out. The rules, in order:

- a pid already live or pending here is not new (``KNOWN``); a child of the harness once
  found not to be this trial's is not looked at again (``FOREIGN``);
- a dead pid (zombie, or gone) whose exit is recorded is one its parent has not reaped yet,
  listed as its child on every scan (``EXIT_RECORDED``). These first rules need no pidfd
  (``screen``), so such a zombie costs one small read and no descriptor;
- a pid whose pidfd could not be opened, or whose state can no longer be read, is ``GONE``;
- a pid in the trial's cgroup is a member whatever it did (``CGROUP``: setsid, double
  fork, an empty environment, re-parented to pid 1), with the instance of its leaf. A pid
  listed by the cgroup but not in it when read with its pidfd held has ``MOVED`` (gone,
  its pid reused);
- a pid a kernel fork event named as the child of a watched process is a member by
  descent whatever its parent is now (``DESCENT``: the event is the fact), unless there is
  a trial cgroup and it is not in it (``MOVED``: the child of a member is born in the
  member's cgroup, so a watched pid reused by a stranger cannot bring the stranger's in);
- otherwise a member by descent is still the child of the tracked process it was listed
  under; a member by marker was re-parented to the harness (its child subreaper) and
  carries this trial's environment marker (``marker.py``). Anything else has ``MOVED`` or
  is ``FOREIGN``;
- a child of the harness found by the orphan scan or the cgroup listing is never adopted
  while a root is being launched (``LAUNCHING``): the new root looks exactly like an
  orphan until ``add_root``;
- a member that has not exec'd yet is ``PENDING``: its role waits (``pending.py``). With
  an exec event seen (``exec_seen``) it has exec'd, whatever its command line says (``sh``
  exec'ing ``sh``); otherwise it has not while its command line is empty, or its parent's
  (as recorded or as it is now: a parent may have exec'd since it was recorded), or it is
  already dead (its exit is still to be seen). Otherwise ``TRACK``.

Separately, ``pid_reused``: a pid whose exit is recorded but which is alive now names a new
process; the tracker forgets the old exit whatever the ruling.

Every input past the pid's identity is a field with a neutral default (``in_cgroup`` and
``exec_seen`` None: that source is not in use), so a new source adds a field without
reshaping the record, and a rule consults such a field only when it is known.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from harness.system.marker import Marker

__all__ = [
    "Action",
    "Basis",
    "Decision",
    "Reason",
    "Sighting",
    "Via",
    "decide",
    "pid_reused",
    "runs_parent_image",
    "screen",
]

DEAD_STATES = frozenset({"Z", "X"})
"""Scheduler states of a process that has exited (zombie, dying)."""


class Action(enum.Enum):
    """What the tracker does with a sighted pid."""

    TRACK = "track"  # a member: decide its role now, from its command line
    PENDING = "pending"  # a member that has not exec'd yet: hold it, role undecided
    SKIP = "skip"  # not a new member: close its pidfd, if one is open


class Basis(enum.Enum):
    """Why a member belongs to the trial."""

    DESCENT = "descent"  # still the child of the tracked process it was listed under
    MARKER = "marker"  # re-parented to the harness, carrying this trial's marker (adopted)
    CGROUP = "cgroup"  # in the trial's cgroup, whatever its parent and environment


class Via(enum.Enum):
    """How the pid was found."""

    CHILDREN = "children"  # a children listing: of a tracked process, or of the harness
    CGROUP = "cgroup"  # the trial cgroup's listing (``listed_under``: its parent then)
    FORK = "fork"  # a kernel fork event by the watched process ``listed_under``


class Reason(enum.Enum):
    """Why a sighted pid is skipped."""

    KNOWN = "already live or pending here"
    EXIT_RECORDED = "its exit is recorded; its parent has not reaped it yet"
    GONE = "gone before it could be looked at"
    MOVED = "no longer the child of the process it was listed under (nor of the harness)"
    FOREIGN = "a child of the harness without this trial's marker"
    LAUNCHING = "a root is being launched: this child of the harness may be it"


@dataclass(frozen=True)
class Sighting:
    """Everything known about one listed pid when its membership is decided.

    ``listed_under`` is the process whose children listed it: a tracked process, or the
    harness itself for the orphan scan; for a fork event the parent it names, for the
    cgroup listing its parent when listed. The /proc fields are None when unreadable (gone)
    or not read: before the pidfd is open the tracker reads only ``state``, and only for a
    pid whose exit is recorded; with ``held`` set, all of them were read with the pidfd open.
    """

    pid: int
    listed_under: int
    harness: int  # the harness's own pid: the subreaper that orphans are re-parented to
    instance: int = 0  # the listing parent's instance (an orphan's is its marker's)
    parent_cmdline: tuple[str, ...] | None = None  # the listing parent's, as recorded
    # What the tracker knows (read under its lock).
    known: bool = False  # live or pending here already
    exit_recorded: bool = False  # a process with this pid exited while tracked here
    foreign: bool = False  # a child of the harness already found not to be this trial's
    launching: bool = False  # a root's launch is under way (``ProcessTracker.launching``)
    trials: frozenset[str] = frozenset()  # this tracker's trial ids
    # What /proc says.
    held: bool = False  # a pidfd was open for the pid while the fields below were read
    state: str | None = None  # scheduler state letter
    ppid: int | None = None  # current parent
    marker: Marker | None = None
    cmdline: tuple[str, ...] | None = None  # empty while exec replaces the image, or a zombie
    parent_cmdline_now: tuple[str, ...] | None = None  # the listing parent's, read now
    # The sources past /proc scans (None: not in use for this trial).
    via: Via = Via.CHILDREN
    in_cgroup: bool | None = None  # in the trial's cgroup (read with the pidfd held)
    cgroup_instance: int | None = None  # the instance of the leaf that holds it
    exec_seen: bool | None = None  # a kernel exec event for it since its fork

    @property
    def orphan(self) -> bool:
        """Listed by the orphan scan (a child of the harness), not under a tracked process."""
        return self.via is Via.CHILDREN and self.listed_under == self.harness


@dataclass(frozen=True)
class Decision:
    """The ruling on one sighting: a skip has a ``reason``; a member a basis and instance."""

    action: Action
    reason: Reason | None = None
    basis: Basis | None = None
    instance: int | None = None

    @property
    def member(self) -> bool:
        return self.action is not Action.SKIP


def screen(*, known: bool, foreign: bool, exit_recorded: bool, state: str | None) -> Reason | None:
    """The skip that needs no pidfd, or None: open a pidfd and look closer.

    Plain flags rather than a ``Sighting``: every scan lists every known child, and this
    is all it costs them. ``foreign`` only for the orphan scan; ``state`` read only for a
    pid whose exit is recorded.
    """
    if known:
        return Reason.KNOWN
    if foreign:
        return Reason.FOREIGN
    if exit_recorded and (state is None or state in DEAD_STATES):
        return Reason.EXIT_RECORDED
    return None


def decide(sighting: Sighting) -> Decision:
    """Rule on ``sighting`` (pure and total); see the module docstring for the rules."""
    s = sighting
    early = screen(
        known=s.known,
        foreign=s.orphan and s.foreign,
        exit_recorded=s.exit_recorded,
        state=s.state,
    )
    if early is not None:
        return Decision(Action.SKIP, reason=early)
    if not s.held or s.state is None:
        return Decision(Action.SKIP, reason=Reason.GONE)
    instance = s.instance
    if s.in_cgroup:
        basis = Basis.CGROUP
        if s.cgroup_instance is not None:
            instance = s.cgroup_instance
    elif s.via is Via.CGROUP or (s.via is Via.FORK and s.in_cgroup is False):
        return Decision(Action.SKIP, reason=Reason.MOVED)
    elif s.via is Via.FORK or (s.ppid == s.listed_under and not s.orphan):
        basis = Basis.DESCENT
    elif s.ppid != s.harness:
        return Decision(Action.SKIP, reason=Reason.MOVED)
    elif s.marker is None or s.marker.trial_id not in s.trials:
        return Decision(Action.SKIP, reason=Reason.FOREIGN)
    else:
        basis = Basis.MARKER
    adoptable = s.orphan or (s.via is Via.CGROUP and s.ppid == s.harness)
    if adoptable and s.launching:
        return Decision(Action.SKIP, reason=Reason.LAUNCHING)
    if s.orphan and basis is Basis.MARKER:  # no listing parent: its marker names the instance
        instance = (s.marker.instance if s.marker is not None else None) or 0
    action = Action.PENDING if _not_execd(s) else Action.TRACK
    return Decision(action, basis=basis, instance=instance)


def _not_execd(s: Sighting) -> bool:
    """Its command line cannot tell its role yet: mid-exec, its parent's, or dead."""
    if s.state in DEAD_STATES or not s.cmdline:
        return True
    return runs_parent_image(s.cmdline, s.exec_seen, (s.parent_cmdline, s.parent_cmdline_now))


def runs_parent_image(
    cmdline: Sequence[str] | None,
    exec_seen: bool | None,
    parents: tuple[Sequence[str] | None, ...],
) -> bool:
    """A forked child still running its parent's program: no exec seen, and its command
    line is one of its parent's readings (as first seen, and now: a parent that exec'd
    later forks children that show its new one). An empty reading (mid-exec) is not;
    ``exec_seen`` None: no source says (only kernel events see an exec)."""
    return bool(cmdline) and not exec_seen and cmdline in parents


def pid_reused(sighting: Sighting) -> bool:
    """Alive, with its pidfd held, though its exit is recorded: the pid names a new process."""
    s = sighting
    return s.held and s.exit_recorded and s.state is not None and s.state not in DEAD_STATES

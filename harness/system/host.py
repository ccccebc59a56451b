"""What this host allows, found by trying: containment, process events, pidfds. Pure data out.

``chaos doctor`` prints it, the run header shows it in one line and the journal records
which containment and which process source a run used. Each feature is probed once per
process (creating and removing a cgroup, opening the connector and seeing a fork) and the
switches decide what is used:

- ``CHAOS_CONTAINMENT``: ``auto`` (default: a cgroup when one can be made, else the
  marker), ``cgroup`` (required: a host that cannot is a ``HostError``), ``marker`` (the
  subreaper + environment-marker fallback, even where cgroups work);
- ``CHAOS_PROCESS_EVENTS``: ``auto`` (default), ``netlink`` (required), ``scan`` (``/proc``
  scans only).

Where the chaos cgroups go (``place``): under the cgroup2 root when it is writable (root:
the ``chaos`` parent then sits beside ``system.slice``, where a later issue can enable
controllers, the root being exempt from the no-internal-processes rule), else under this
process's own cgroup when it is delegated to us (``systemd-run --user --scope -p
Delegate=yes``), else nowhere (marker fallback, with the reason).
"""

from __future__ import annotations

import enum
import functools
import os
import re
import signal
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HostError, UsageError
from harness.system import cgroups, procevents

__all__ = [
    "CONTAINMENT_ENV",
    "EVENTS_ENV",
    "Containment",
    "ContainmentChoice",
    "EventSource",
    "EventsChoice",
    "HostReport",
    "containment",
    "place",
    "process_events",
    "report",
    "summary",
]

CONTAINMENT_ENV = "CHAOS_CONTAINMENT"
EVENTS_ENV = "CHAOS_PROCESS_EVENTS"
PARENT_ENV = "CHAOS_CGROUP_PARENT"
PARENT_NAME = "chaos"
"""The chaos-owned parent cgroup: ``<base>/chaos/run-*/trial-*/i<N>``."""
_PARENT_SHAPE = re.compile(r"^chaos[A-Za-z0-9_.-]{0,64}$")


def parent_name() -> str:
    """``chaos``, or ``$CHAOS_CGROUP_PARENT`` when it is a name starting with ``chaos``.

    Runs under different parents never see each other's leftovers: the harness's own test
    suite gives a test that kills a run on purpose a parent of its own, so that a run of a
    test beside it does not end (and announce) the leftovers first. Anything else is
    ignored: the variable can never point the harness at a cgroup it does not own.
    """
    given = os.environ.get(PARENT_ENV, "")
    return given if _PARENT_SHAPE.match(given) else PARENT_NAME


class Containment(enum.StrEnum):
    CGROUP = "cgroup"
    MARKER = "marker"


class EventSource(enum.StrEnum):
    NETLINK = "netlink"
    SCAN = "scan"


@dataclass(frozen=True)
class ContainmentChoice:
    """What a run uses to hold the system: a cgroup parent directory, or the marker."""

    mode: Containment
    parent: Path | None = None
    """``<base>/chaos`` with cgroups; None with the marker."""
    mount: cgroups.Mount | None = None
    detail: str = ""
    """Where (cgroup), or why not (marker)."""


@dataclass(frozen=True)
class EventsChoice:
    source: EventSource
    detail: str = ""


@dataclass(frozen=True)
class Feature:
    available: bool
    detail: str


@dataclass(frozen=True)
class HostReport:
    """Everything ``chaos doctor`` shows."""

    containment: ContainmentChoice
    cgroup: Feature
    events: EventsChoice
    netlink: Feature
    pidfd: Feature
    switches: dict[str, str]

    @property
    def runnable(self) -> bool:
        return self.pidfd.available


# --------------------------------------------------------------------------- placement


def _writable(directory: Path) -> bool:
    return os.access(directory, os.W_OK) and os.access(directory / "cgroup.procs", os.W_OK)


def place(
    mount: cgroups.Mount,
    own: Path | None,
    *,
    writable: Callable[[Path], bool] = _writable,
    uid: int | None = None,
) -> tuple[Path | None, str]:
    """Where chaos's parent cgroup goes: (``<base>/chaos``, where) or (None, why not). Pure
    but for the parent's name (``parent_name``)."""
    name = parent_name()
    if writable(mount.point):
        return mount.point / name, f"cgroup v2 at {mount.point / name}"
    if own is not None and own != mount.point and writable(own):
        return own / name, f"cgroup v2 at {own / name} (delegated)"
    uid = os.geteuid() if uid is None else uid
    where = f"this process's cgroup {own}" if own is not None else "this process's cgroup"
    if uid == 0:
        return None, (
            f"no writable cgroup v2: {mount.point} is not writable even as root (mounted"
            " read-only, as in a container without a writable cgroup mount?)"
        )
    return None, (
        f"no writable cgroup v2: {mount.point} needs root and {where} is not delegated to"
        f" uid {uid} (run as root, or under `systemd-run --user --scope -p Delegate=yes`)"
    )


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""


def locate() -> tuple[cgroups.Mount, Path | None] | None:
    """This host's cgroup2 mount and our own cgroup directory (from /proc/self)."""
    mounts = cgroups.parse_mountinfo(_read("/proc/self/mountinfo"))
    return cgroups.locate(mounts, cgroups.own_path(_read("/proc/self/cgroup")))


def _probe_cgroup() -> tuple[ContainmentChoice | None, str]:
    """Try: create and remove a cgroup where ours would go; check ``cgroup.kill`` exists."""
    found = locate()
    if found is None:
        return None, "no cgroup v2 hierarchy is mounted (see /proc/self/mountinfo)"
    mount, own = found
    parent, detail = place(mount, own)
    if parent is None:
        return None, detail
    probe = cgroups.Cgroup(parent / f"probe-{os.getpid()}")
    created_parent = not parent.exists()
    try:
        probe.create()
    except OSError as exc:
        return None, f"cannot create a cgroup in {parent.parent}: {exc.strerror or exc}"
    try:
        if not (probe.path / "cgroup.kill").exists():
            return None, "cgroup.kill is missing (Linux 5.14 or newer is needed)"
    finally:
        probe.remove()
        if created_parent:
            cgroups.Cgroup(parent).rmdir_if_empty()
    layout = "pure v2" if mount.point == Path("/sys/fs/cgroup") else f"cgroup2 at {mount.point}"
    detail = f"{detail} ({layout})"
    return ContainmentChoice(Containment.CGROUP, parent=parent, mount=mount, detail=detail), ""


@functools.cache
def _cgroup_feature() -> tuple[ContainmentChoice | None, str]:
    return _probe_cgroup()


@functools.cache
def _netlink_feature() -> tuple[bool, str]:
    return procevents.probe()


def _pidfd_feature() -> Feature:
    if hasattr(os, "pidfd_open") and hasattr(signal, "pidfd_send_signal"):
        try:
            fd = os.pidfd_open(os.getpid())
        except OSError as exc:
            return Feature(False, f"pidfd_open refused: {exc.strerror or exc}")
        os.close(fd)
        return Feature(True, "pidfd_open and pidfd_send_signal")
    return Feature(False, "needs Linux 5.4 or newer and Python 3.9+")


def _switch(env: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str:
    value = env.get(name, "auto").strip().lower() or "auto"
    if value not in allowed:
        raise UsageError(f"{name} must be one of {', '.join(allowed)} (got {value!r})")
    return value


# --------------------------------------------------------------------------- decisions


def containment(env: Mapping[str, str] | None = None) -> ContainmentChoice:
    """The containment a run uses now, by the switch and what the host allows."""
    env = os.environ if env is None else env
    wanted = _switch(env, CONTAINMENT_ENV, ("auto", "cgroup", "marker"))
    if wanted == "marker":
        return ContainmentChoice(Containment.MARKER, detail=f"{CONTAINMENT_ENV}=marker")
    choice, why = _cgroup_feature()
    if choice is not None:
        return choice
    if wanted == "cgroup":
        raise HostError(f"{CONTAINMENT_ENV}=cgroup, but {why}")
    return ContainmentChoice(Containment.MARKER, detail=why)


def process_events(env: Mapping[str, str] | None = None) -> EventsChoice:
    """The process source trackers use now, by the switch and what the host allows."""
    env = os.environ if env is None else env
    wanted = _switch(env, EVENTS_ENV, ("auto", "netlink", "scan"))
    if wanted == "scan":
        return EventsChoice(EventSource.SCAN, f"{EVENTS_ENV}=scan")
    ok, detail = _netlink_feature()
    if ok:
        return EventsChoice(EventSource.NETLINK, detail)
    if wanted == "netlink":
        raise HostError(f"{EVENTS_ENV}=netlink, but {detail}")
    return EventsChoice(EventSource.SCAN, detail)


def report(env: Mapping[str, str] | None = None) -> HostReport:
    """Everything the host allows and what a run would use (``chaos doctor``)."""
    env = os.environ if env is None else env
    cg, why = _cgroup_feature()
    ok, detail = _netlink_feature()
    switches = {name: env.get(name, "auto") for name in (CONTAINMENT_ENV, EVENTS_ENV)}
    return HostReport(
        containment=containment(env),
        cgroup=Feature(cg is not None, cg.detail if cg is not None else why),
        events=process_events(env),
        netlink=Feature(ok, detail),
        pidfd=_pidfd_feature(),
        switches=switches,
    )


def summary(containment: ContainmentChoice, events: EventsChoice) -> str:
    """One line: what a run uses (the console header, the journal)."""
    if containment.mode is Containment.CGROUP:
        held = f"containment cgroup {containment.parent}"
    else:
        held = f"containment marker + subreaper ({containment.detail})"
    if events.source is EventSource.NETLINK:
        seen = "process events netlink"
    else:
        seen = f"process events /proc scans ({events.detail})"
    return f"{held}; {seen}; pidfd"

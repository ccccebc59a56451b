"""What a killed earlier run left behind: ended and removed by the next run, which says so.

The guardian normally ends a dead harness's processes within a second; this is the net
under it (the guardian killed too, a reboot-less host crash of both). Two kinds:

- run cgroups (``chaos/run-<pidns>-<pid>-<start>-<n>``) whose harness is gone: frozen,
  listed, ``cgroup.kill``ed, removed. A run cgroup of a live harness, or of another pid
  namespace, is never touched;
- the run folders in cgroup v1 hierarchies that resource faults made (``limits.py``);
- marked processes whose harness is gone (``subreaper.reap_leftovers``), the only trace a
  marker-fallback run leaves.

Returns one line per thing ended, for the run's header and journal.
"""

from __future__ import annotations

import contextlib
import re

from harness.system import cgroups, host, limits, procfs
from harness.system.containment import RunName, TrialCgroup
from harness.system.subreaper import reap_leftovers

__all__ = ["reap"]

_PROBE = re.compile(r"^probe-(\d+)$")


def _describe(pid: int) -> str:
    argv = procfs.cmdline(pid)
    shown = " ".join(argv)[:60] if argv else "?"
    return f"{pid} {shown}"


def _parent() -> tuple[cgroups.Mount, cgroups.Cgroup] | None:
    found = host.locate()
    if found is None:
        return None
    mount, own = found
    parent, _ = host.place(mount, own)
    return (mount, cgroups.Cgroup(parent)) if parent is not None else None


def reap_cgroups() -> list[str]:
    """End and remove the run cgroups of dead harnesses; one line per cgroup."""
    found = _parent()
    if found is None:
        return []
    mount, parent = found
    lines: list[str] = []
    for child in parent.children():
        probe = _PROBE.match(child.name)
        if probe is not None:
            if procfs.state(int(probe.group(1))) is None:
                child.remove()  # a doctor probe of a process that died mid-probe
            continue
        name = RunName.parse(child.name)
        if name is None or name.harness_alive():
            continue
        whole = TrialCgroup(child, mount, 0)
        described = [_describe(pid) for pid in whole.pids()]
        with contextlib.suppress(OSError):
            whole.kill_all()
        removed = child.remove()
        what = f"cgroup {parent.name}/{child.name} of dead harness {name.pid}"
        if described:
            what += f": ended {len(described)} process(es) ({', '.join(described[:5])}"
            what += ", ...)" if len(described) > 5 else ")"
        else:
            what += ": empty, removed"
        if not removed:
            what += "; could not be removed (still busy)"
        lines.append(what)
    if lines:
        parent.rmdir_if_empty()  # the shared parent, if nothing else uses it
    return lines


def reap_v1() -> list[str]:
    """Remove the v1 run folders (resource faults) of dead harnesses; one line each."""
    lines: list[str] = []
    for directory in limits.v1_run_dirs("_"):
        parent = cgroups.Cgroup(directory.parent)
        for child in parent.children():
            name = RunName.parse(child.name)
            if name is None or name.harness_alive():
                continue
            held = child.pids()
            removed = limits.remove_v1_run(child.path)
            what = f"v1 cgroup {child.path} of dead harness {name.pid}"
            what += f": ended {len(held)} process(es)" if held else ": empty, removed"
            if not removed:
                what += "; could not be removed (still busy)"
            lines.append(what)
    return lines


def reap() -> list[str]:
    """Everything earlier, dead runs left: cgroups first, then marked processes."""
    lines = reap_cgroups() + reap_v1()
    killed = reap_leftovers()
    if killed:
        lines.append(
            f"ended {len(killed)} marked process(es) of a dead harness"
            f" ({', '.join(str(p) for p in killed[:8])}{', ...' if len(killed) > 8 else ''})"
        )
    return lines

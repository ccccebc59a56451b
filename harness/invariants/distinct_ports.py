"""``distinct_ports``: every instance became ready and no two listen on the same port.

Jan's multi-instance bug: every copy used the backend's fixed port, so one instance talked
to (and killed) another's backend. Ports come from ``PortListen`` events (optionally of
one role) and from a ``port`` group of the readiness log pattern.
"""

from __future__ import annotations

from collections import defaultdict
from typing import ClassVar

from harness.invariants.base import Checker, History
from harness.invariants.outcome import listing, result
from harness.observe.events import PortListen, Ready
from harness.spec.kinds import InvariantSpec
from harness.spec.verdict import InvariantResult

KIND = "distinct_ports"


class DistinctPortsSpec(InvariantSpec):
    """``distinct_ports: {role?}``."""

    not_templates: ClassVar[frozenset[str]] = frozenset({"role"})

    role: str | None = None


def ports_by_instance(spec: DistinctPortsSpec, history: History) -> dict[int, dict[int, float]]:
    """Instance → port → when it was first seen used by that instance."""
    found: dict[int, dict[int, float]] = defaultdict(dict)
    for event in history.events:
        if isinstance(event, PortListen) and spec.role in (None, event.role):
            found[event.instance].setdefault(event.port, event.t)
        elif isinstance(event, Ready) and event.groups.get("port", "").isdigit():
            found[event.instance].setdefault(int(event.groups["port"]), event.t)
    return found


def check(spec: DistinctPortsSpec, history: History) -> InvariantResult:
    """All ``history.instances`` ready, each with a port, none shared."""
    ready = sorted({e.instance for e in history.of(Ready)})
    ports = ports_by_instance(spec, history)
    of_role = f" by {spec.role}" if spec.role else ""
    expected = f"{history.instances} ready instance(s), each on its own port{of_role}"
    metrics = {"ports": {str(i): sorted(p) for i, p in sorted(ports.items())}}
    not_ready = [i for i in range(history.instances) if i not in ready]
    if not_ready:
        return result(
            KIND,
            spec,
            False,
            f"{len(ready)} of {history.instances} instances became ready (not: {not_ready});"
            " expected all",
            expected=expected,
            observed=f"{len(ready)} ready",
            metrics=metrics,
        )
    silent = [i for i in ready if not ports.get(i)]
    if silent:
        return result(
            KIND,
            spec,
            False,
            f"instance(s) {silent} were seen listening on no port{of_role}; nothing to compare",
            expected=expected,
            observed="no port seen",
            metrics=metrics,
        )
    owners: dict[int, list[int]] = defaultdict(list)
    for instance, seen in sorted(ports.items()):
        for port in seen:
            owners[port].append(instance)
    shared = {port: who for port, who in sorted(owners.items()) if len(who) > 1}
    if shared:
        told = [f"port {port} by instances {who}" for port, who in shared.items()]
        return result(
            KIND,
            spec,
            False,
            f"{len(shared)} port(s) used by more than one instance: {listing(told)};"
            " expected every instance on its own ports",
            expected=expected,
            observed="shared ports",
            metrics=metrics,
            evidence=[ports[i][port] for port, who in shared.items() for i in who],
        )
    told = [f"{i}: {', '.join(map(str, sorted(p)))}" for i, p in sorted(ports.items())]
    return result(
        KIND,
        spec,
        True,
        f"all {len(ready)} instance(s) ready on distinct ports ({listing(told, 8)})",
        expected=expected,
        observed="distinct",
        metrics=metrics,
    )


CHECKER = Checker(KIND, DistinctPortsSpec, check, refs={"role": "role"})

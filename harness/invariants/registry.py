"""Every invariant kind by its YAML name. Adding a kind: one module, one line here."""

from __future__ import annotations

from harness.invariants import (
    alive,
    availability,
    distinct_ports,
    exit,
    ledger,
    log,
    no_orphans,
    probe,
    recovers,
    restarts,
    steady,
)
from harness.invariants.base import Checker
from harness.spec.registry import Registry

INVARIANTS: Registry[Checker] = Registry("invariant kind")

for _module in (
    recovers,
    restarts,
    availability,
    probe,
    steady,
    alive,
    distinct_ports,
    no_orphans,
    log,
    exit,
    ledger,
):
    INVARIANTS.register(_module.CHECKER.name, _module.CHECKER)

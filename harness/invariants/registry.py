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
from harness.invariants.base import InvariantPlugin
from harness.spec.registry import Registry

INVARIANTS: Registry[InvariantPlugin] = Registry("invariant kind")

INVARIANTS.register(recovers.CHECKER.name, recovers.CHECKER)
INVARIANTS.register(restarts.CHECKER.name, restarts.CHECKER)
INVARIANTS.register(availability.CHECKER.name, availability.CHECKER)
INVARIANTS.register(probe.CHECKER.name, probe.CHECKER)
INVARIANTS.register(steady.CHECKER.name, steady.CHECKER)
INVARIANTS.register(alive.CHECKER.name, alive.CHECKER)
INVARIANTS.register(distinct_ports.CHECKER.name, distinct_ports.CHECKER)
INVARIANTS.register(no_orphans.CHECKER.name, no_orphans.CHECKER)
INVARIANTS.register(log.CHECKER.name, log.CHECKER)
INVARIANTS.register(exit.CHECKER.name, exit.CHECKER)
INVARIANTS.register(ledger.CHECKER.name, ledger.CHECKER)

"""Every fault kind by its YAML name. Adding a kind: one module, one line here."""

from __future__ import annotations

from harness.faults import freeze, kill, request, squat_port
from harness.faults.base import FaultKind
from harness.spec.registry import Registry

FAULTS: Registry[FaultKind] = Registry("fault kind")

for _kind in (kill.KIND, freeze.KIND, squat_port.KIND, request.KIND):
    FAULTS.register(_kind.name, _kind)

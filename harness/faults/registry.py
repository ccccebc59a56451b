"""Every fault kind by its YAML name. Adding a kind: one module, one line here."""

from __future__ import annotations

from harness.faults import disk, freeze, kill, request, resources, squat_port, toxics
from harness.faults.base import FaultPlugin
from harness.spec.registry import Registry

FAULTS: Registry[FaultPlugin] = Registry("fault kind")

FAULTS.register(kill.KIND.name, kill.KIND)
FAULTS.register(freeze.KIND.name, freeze.KIND)
FAULTS.register(squat_port.KIND.name, squat_port.KIND)
FAULTS.register(request.KIND.name, request.KIND)
for _kind in (*toxics.KINDS, disk.DISK_FULL, disk.READ_ONLY, *resources.KINDS):
    FAULTS.register(_kind.name, _kind)

"""Every workload kind by its YAML name. Adding a kind: one module, one line here."""

from __future__ import annotations

from harness.spec.registry import Registry
from harness.workload import command, http, tcp
from harness.workload.base import WorkloadPlugin

WORKLOADS: Registry[WorkloadPlugin] = Registry("workload kind")

WORKLOADS.register(http.KIND.name, http.KIND)
WORKLOADS.register(tcp.KIND.name, tcp.KIND)
WORKLOADS.register(command.KIND.name, command.KIND)

"""Every probe kind by its YAML name. Adding a kind: one module, one line here."""

from __future__ import annotations

from harness.observe.probes import http
from harness.observe.probes.base import ProbePlugin
from harness.spec.registry import Registry

PROBES: Registry[ProbePlugin] = Registry("probe kind")

PROBES.register(http.KIND.name, http.KIND)

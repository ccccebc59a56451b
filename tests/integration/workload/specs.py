"""Workload specs as the loader makes them, from a YAML-like item, with the real kinds."""

from __future__ import annotations

from typing import Any

from harness.scenario.model import WorkloadSpec
from harness.scenario.source import Problem
from harness.scenario.workloads import workload_entry
from harness.workload.registry import WORKLOADS


def workload(**item: Any) -> WorkloadSpec:
    """``workload(name="ui", rate="20/s", http={...})``; fails the test on a problem."""
    problems: list[Problem] = []
    spec = workload_entry(item, ("workload", 0), WORKLOADS, problems, {})
    assert spec is not None, problems
    return spec

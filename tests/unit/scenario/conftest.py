"""Fixtures for the scenario tests: the loader gets small registries of its own."""

from __future__ import annotations

from typing import Any

import pytest
from scenario_kinds import make_faults, make_invariants


@pytest.fixture
def registries() -> dict[str, Any]:
    """Keyword arguments for ``load_scenario``: ``faults=`` and ``invariants=``."""
    return {"faults": make_faults(), "invariants": make_invariants()}

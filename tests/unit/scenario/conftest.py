"""Fixtures for the scenario tests: the loader gets small registries of its own."""

from __future__ import annotations

from typing import Any

import pytest
from scenario_kinds import make_kinds


@pytest.fixture
def registries() -> dict[str, Any]:
    """Keyword arguments for ``load_scenario``: ``kinds=``."""
    return {"kinds": make_kinds()}

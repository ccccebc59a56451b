"""``requires: [exe...]``: executables a scenario needs, checked before it runs.

A missing one skips the scenario with the reason rather than failing it: the machine, not
the system under test, is what lacks it.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from harness.scenario.model import Scenario

PYTHON_NAMES = frozenset({"python", "python3"})
"""Resolved to the interpreter running the harness (``{python}``), not to ``PATH``."""


def missing_requirements(scenario: Scenario) -> list[str]:
    """The required executables this machine lacks, in the scenario's order."""
    missing = []
    for exe in scenario.requires:
        if exe in PYTHON_NAMES:
            found = bool(sys.executable) and Path(sys.executable).exists()
        else:
            found = shutil.which(exe) is not None
        if not found:
            missing.append(exe)
    return missing

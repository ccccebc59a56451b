"""Real processes for the system layer: the test process is a child subreaper, like the
harness, and every rig is torn down whatever the test did."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.system.roles import RoleMatcher
from harness.system.subreaper import become_subreaper

from .rig import Rig


@pytest.fixture(autouse=True)
def _subreaper() -> None:
    assert become_subreaper()


@pytest.fixture
def make_rig(tmp_path: Path) -> Iterator[Callable[..., Rig]]:
    rigs: list[Rig] = []

    def make(roles: list[RoleMatcher], **options: Any) -> Rig:
        rig = Rig(tmp_path, roles, **options)
        rigs.append(rig)
        return rig

    yield make
    for rig in rigs:
        rig.close()

"""Start real testbed supervisors for a test and always take them down again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from testbed_helpers import FAST, Factory, Testbed


@pytest.fixture
def testbed(tmp_path: Path) -> Iterator[Factory]:
    """``testbed(*args, data_dir=None, wait_ready=True)`` starts a supervisor."""
    started: list[Testbed] = []

    def start(*args: str, data_dir: Path | None = None, wait_ready: bool = True) -> Testbed:
        index = len(started)
        folder = data_dir or tmp_path / f"data{index}"
        bed = Testbed(folder, tmp_path / f"testbed{index}.log", [*FAST, *args], False)
        started.append(bed)
        if wait_ready:
            bed.wait_ready()
        return bed

    yield start
    for bed in started:
        bed.stop()

"""Fixtures of the end-to-end tests; the helpers they use live in ``e2e_support``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import Chaos


@pytest.fixture
def chaos(tmp_path: Path) -> Iterator[Chaos]:
    """Run the CLI; after the test, fail if its runs leaked processes, ports or folders."""
    runner = Chaos(home=tmp_path)
    runner.tmpdir.mkdir()
    yield runner
    problems = runner.problems()
    runner.cleanup()
    if problems:
        pytest.fail("chaos left behind: " + "; ".join(problems), pytrace=False)

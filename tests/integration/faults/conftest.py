"""A real fault context per test, always closed (children killed and reaped)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .context import RealContext


@pytest.fixture
def ctx() -> Iterator[RealContext]:
    context = RealContext(seed=1)
    try:
        yield context
    finally:
        context.close()

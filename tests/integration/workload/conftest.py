"""One real loopback server per test, always shut down."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import JsonServer


@pytest.fixture
def server() -> Iterator[JsonServer]:
    running = JsonServer().start()
    try:
        yield running
    finally:
        running.close()

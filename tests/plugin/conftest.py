"""Fixtures of the plugin's pytester tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def run_tmp(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The inner run's temp folder: its trial folders land here, and must be gone after."""
    tmp = pytester.path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    yield tmp
    assert sorted(p.name for p in tmp.glob("chaos-*")) == []

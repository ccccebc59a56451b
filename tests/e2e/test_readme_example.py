"""The README's Python example is run as it is printed, so it cannot silently go stale."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def readme_python_example() -> str:
    match = re.search(
        r"```python\n(from harness import .*?def test_.*?)```",
        README.read_text(encoding="utf-8"),
        re.S,
    )
    assert match, "README.md lost its Python example"
    return match.group(1)


def test_the_readme_python_example_passes(chaos_system: Callable[..., Any]) -> None:
    namespace: dict[str, Any] = {}
    exec(readme_python_example(), namespace)
    tests = [v for k, v in namespace.items() if k.startswith("test_") and callable(v)]
    assert len(tests) == 1
    tests[0](chaos_system)

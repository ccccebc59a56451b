"""``Regex``: a Python regular expression, compiled once at validation to refuse bad ones."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator


def check_regex(value: str) -> str:
    """``value`` if it compiles; a readable ``ValueError`` if not."""
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression ({exc})") from None
    return value


Regex = Annotated[str, AfterValidator(check_regex)]
"""A Python regular expression (never a template: ``\\d{3}`` keeps its braces)."""

"""``Regex``: a Python regular expression, checked once at validation to refuse bad ones.

Checked here, and only here, before ``re.compile`` sees it: the parser of ``re`` recurses
once per nested group, so 1000 nested groups is a ``RecursionError`` rather than an error
message. A pattern is therefore bounded in length and in group nesting first; both limits
are far beyond what matching a log line or a command line needs.
"""

from __future__ import annotations

import re
import warnings
from typing import Annotated, Any

from pydantic import AfterValidator

MAX_LENGTH = 1000
"""Characters in one pattern."""
MAX_NESTING = 20
"""Groups inside groups, ``((...))``."""


class RegexError(ValueError):
    """A pattern refused; ``offset`` is where in the pattern, when known."""

    def __init__(self, message: str, offset: int | None = None) -> None:
        super().__init__(message)
        self.offset = offset


def group_nesting(pattern: str) -> tuple[int, int]:
    """The deepest group nesting of ``pattern`` and the offset where it is first reached.

    Escapes and character classes (``\\(``, ``[(]``) open no group.
    """
    depth = deepest = where = 0
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        i += 1
        if char == "\\":
            i += 1
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            i += pattern.startswith("^", i)
            i += pattern.startswith("]", i)  # a leading ']' is a literal
        elif char == "(":
            depth += 1
            if depth > deepest:
                deepest, where = depth, i - 1
        elif char == ")":
            depth = max(0, depth - 1)
    return deepest, where


def check_regex(value: str) -> str:
    """``value`` if it is a pattern ``re`` compiles within the limits; else ``RegexError``."""
    if len(value) > MAX_LENGTH:
        raise RegexError(
            f"a regular expression of {len(value)} characters; the limit is {MAX_LENGTH}"
        )
    deepest, where = group_nesting(value)
    if deepest > MAX_NESTING:
        raise RegexError(
            f"a regular expression with groups nested {deepest} deep; the limit is {MAX_NESTING}",
            where,
        )
    with warnings.catch_warnings():
        # ``re`` warns of a pattern whose meaning will change (``[[``, ``--`` in a set);
        # under ``-W error`` (a user's pytest) that warning would be raised much later.
        warnings.simplefilter("error")
        try:
            re.compile(value)
        except re.error as exc:
            raise RegexError(f"not a valid regular expression ({exc})", exc.pos) from None
        except OverflowError as exc:  # a repetition count beyond what ``re`` can hold
            raise RegexError(f"not a usable regular expression ({exc})") from None
        except Warning as exc:
            raise RegexError(
                f"a regular expression Python warns about ({exc}); escape the character "
                "it names (\\[ for a literal '[')"
            ) from None
    return value


Regex = Annotated[str, AfterValidator(check_regex)]
"""A Python regular expression (never a template: ``\\d{3}`` keeps its braces)."""


PID_GROUP = "pid"
"""The named group by which a log pattern names the process a line is about."""


def names_pid(pattern: str) -> bool:
    """Whether ``pattern`` has a ``(?P<pid>...)`` group (as ``re`` reads it: an escaped or
    commented-out one does not count); False for a pattern ``re`` cannot compile."""
    try:
        return PID_GROUP in re.compile(pattern).groupindex
    except re.error:
        return False


def as_pid(value: Any) -> int | None:
    """A process id from a matched group or a JSON value: a positive whole number, else
    None (``true``, ``0``, ``"12a"``)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.isdigit():
        return int(value) or None
    return None

"""Reading a value out of a JSON answer by dotted path, and testing it against expectations.

Shared by ``probe``, ``steady`` and ``ledger``: ``backend.state`` or ``modules.0.status``
(list indexes are numbers), and one ``Expectation`` model (``equals``/``matches``/``in``/
``above``/``below``) so every checker words its comparisons the same way.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import Field, model_validator

from harness.spec.kinds import InvariantSpec
from harness.spec.regex import Regex

MISSING = object()
"""What ``read_path`` returns when the path does not exist in the value."""


def read_path(value: Any, path: str) -> Any:
    """``read_path({"a": [{"b": 1}]}, "a.0.b") == 1``; ``MISSING`` if any step is absent.

    An empty path is the value itself.
    """
    current = value
    for step in path.split(".") if path else []:
        if isinstance(current, dict) and step in current:
            current = current[step]
        elif isinstance(current, list) and _index(step, len(current)) is not None:
            current = current[_index(step, len(current)) or 0]
        else:
            return MISSING
    return current


def _index(step: str, length: int) -> int | None:
    try:
        index = int(step)
    except ValueError:
        return None
    return index if -length <= index < length else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


class Expectation(InvariantSpec):
    """At least one of ``equals``, ``matches``, ``in``, ``above``, ``below``; all must hold."""

    not_templates: ClassVar[frozenset[str]] = frozenset({"equals", "in_"})

    equals: Any = None
    matches: Regex | None = None
    in_: list[Any] | None = Field(default=None, alias="in")
    above: float | None = None
    below: float | None = None

    @model_validator(mode="after")
    def _something(self) -> Expectation:
        given = self.model_fields_set & {"equals", "matches", "in_", "above", "below"}
        if not given:
            raise ValueError("expected at least one of equals, matches, in, above, below")
        return self

    def describe(self) -> str:
        """``equals 'running'``, ``above 0 and below 5``..."""
        parts: list[str] = []
        if "equals" in self.model_fields_set:
            parts.append(f"equals {self.equals!r}")
        if self.matches is not None:
            parts.append(f"matches /{self.matches}/")
        if self.in_ is not None:
            parts.append(f"in {self.in_!r}")
        if self.above is not None:
            parts.append(f"above {self.above:g}")
        if self.below is not None:
            parts.append(f"below {self.below:g}")
        return " and ".join(parts)

    def holds(self, value: Any, instance: int | None = None) -> bool:
        """Whether ``value`` meets every given condition (``MISSING`` never does).

        In ``equals``, the text ``{instance}`` stands for the index of the instance the
        reading came from, so one invariant can say "each instance answers as itself".
        """
        if value is MISSING:
            return False
        if "equals" in self.model_fields_set and value != _for_instance(self.equals, instance):
            return False
        if self.matches is not None and not re.search(self.matches, _text(value)):
            return False
        if self.in_ is not None and value not in self.in_:
            return False
        number = _number(value)
        if self.above is not None and (number is None or not number > self.above):
            return False
        return not (self.below is not None and (number is None or not number < self.below))


def _for_instance(expected: Any, instance: int | None) -> Any:
    if instance is not None and isinstance(expected, str):
        return expected.replace("{instance}", str(instance))
    return expected


def _text(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)


def shown(value: Any) -> str:
    """A value as a detail sentence shows it (``<missing>`` for an absent path)."""
    if value is MISSING:
        return "<missing>"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."

"""The regular expressions of a scenario that may read the system's output.

Output capture records every line up to a budget, then only lines matching these (see
``harness.system.output``), so that readiness (``system.ready.log``), the ``log`` and
``exit`` invariants and any fault or invariant kind added later still see every line they
look for. They are found by type, not by name: every ``Regex`` field of ``system.ready``,
of each fault entry (its options, its ``mix``'s, its ``on_log`` trigger) and of each
invariant's options. A pattern that reads something else (a probe value) only keeps a few
more lines; roles' ``cmdline`` patterns read command lines, never output, and are left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any, get_args, get_origin

from pydantic import AfterValidator, BaseModel

from harness.scenario.model import Scenario
from harness.spec.regex import check_regex


def log_patterns(scenario: Scenario) -> tuple[re.Pattern[str], ...]:
    """Every distinct pattern, compiled, in the order the scenario declares them."""
    models: list[BaseModel] = [scenario.system.ready]
    models += list(scenario.faults)  # each fault's options, its mix, its on_log pattern
    models += [entry.spec for entry in scenario.invariants]
    found = dict.fromkeys(text for model in models for text in _regex_values(model))
    return tuple(re.compile(text) for text in found)


def _regex_values(value: object, regex: bool = False) -> Iterator[str]:
    """The texts held by ``Regex`` fields in ``value`` (``regex``: ``value``'s own type is)."""
    if isinstance(value, str):
        if regex:
            yield value
    elif isinstance(value, BaseModel):
        for name, info in type(value).model_fields.items():
            yield from _regex_values(
                getattr(value, name), _is_regex(info.annotation, info.metadata)
            )
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _regex_values(item, regex)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _regex_values(item, regex)


def _is_regex(annotation: Any, metadata: list[Any]) -> bool:
    """A ``Regex`` type, anywhere in ``annotation`` (``Regex | None``...)."""
    if any(isinstance(m, AfterValidator) and m.func is check_regex for m in metadata):
        return True
    if get_origin(annotation) is Annotated:
        return _is_regex(get_args(annotation)[0], list(annotation.__metadata__))
    return any(_is_regex(arg, []) for arg in get_args(annotation))

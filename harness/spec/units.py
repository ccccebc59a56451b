"""Strict parsing of durations (``250ms``), rates (``20/s``) and fractions (``99%``).

Each parser is a plain function (property-tested) and an ``Annotated`` pydantic type, so a
spec model simply declares ``within: Duration`` and gets seconds as a float.

Values written as text may be templates (``within: "{within}"``): whoever validates passes a
resolver in the validation context under ``TEMPLATES`` (the scenario loader resolves vars),
and the resolved text is what is parsed. Without one, a brace is simply not a duration.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import BeforeValidator, PlainSerializer, ValidationInfo

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$")
_DURATION_SCALE = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(ms|s|m|h)\s*$")
_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")

MAX_DURATION_S = 24 * 3600.0
"""The longest duration a scenario may give: a trial is minutes, never days. It also keeps
every wait the harness makes within what the operating system's timers hold."""
TEMPLATES = "templates"
"""Validation-context key of the resolver of templated values (``text -> text``)."""
T = TypeVar("T")


def parse_duration(value: Any) -> float:
    """``"250ms"`` → 0.25. Bare numbers are refused: a unit is always required."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(f"expected a duration such as '250ms', '2s' or '1m', got {value!r}")
    match = _DURATION.match(value)
    if not match:
        raise ValueError(f"expected a duration such as '250ms', '2s' or '1m', got {value!r}")
    seconds = float(match.group(1)) * _DURATION_SCALE[match.group(2)]
    if seconds > MAX_DURATION_S:
        raise ValueError(f"a duration of at most 24h, got {value!r}")
    return seconds


def parse_rate(value: Any) -> float:
    """``"20/s"`` → 20.0 per second. Must be positive."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(f"expected a rate such as '20/s', got {value!r}")
    match = _RATE.match(value)
    if not match:
        raise ValueError(f"expected a rate such as '20/s', got {value!r}")
    per_second = float(match.group(1)) / _DURATION_SCALE[match.group(2)]
    if per_second <= 0:
        raise ValueError(f"a rate must be above zero, got {value!r}")
    return per_second


def parse_fraction(value: Any) -> float:
    """``"99%"`` or ``0.99`` → 0.99; anything outside 0..1 (0%..100%) is refused."""
    if isinstance(value, bool):
        raise ValueError(f"expected a fraction such as 0.99 or '99%', got {value!r}")
    if isinstance(value, int | float):
        fraction = float(value)
    elif isinstance(value, str) and (match := _PERCENT.match(value)):
        fraction = float(match.group(1)) / 100.0
    else:
        raise ValueError(f"expected a fraction such as 0.99 or '99%', got {value!r}")
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"a fraction must be within 0..1 (0%..100%), got {value!r}")
    return fraction


def format_duration(seconds: float) -> str:
    """Human form for reports: ``0.0123`` → ``12.3ms``."""
    if seconds < 1.0:
        return f"{seconds * 1000:.1f}ms"
    return f"{seconds:.2f}s"


def duration_text(seconds: float) -> str:
    """Seconds → text ``parse_duration`` reads back: never an exponent (``1e+06ms``)."""
    millis = Decimal(repr(round(seconds * 1000, 6)))
    return f"{millis:f}".removesuffix(".0") + "ms"


def templated(parse: Callable[[Any], T]) -> Callable[[Any, ValidationInfo], T]:
    """``parse`` applied after the context's resolver, if any, to a value with braces."""

    def validate(value: Any, info: ValidationInfo) -> T:
        context = info.context
        resolve = context.get(TEMPLATES) if isinstance(context, Mapping) else None
        if resolve is not None and isinstance(value, str) and ("{" in value or "}" in value):
            value = resolve(value)
        return parse(value)

    validate.__name__ = parse.__name__
    validate.__doc__ = parse.__doc__
    return validate


Duration = Annotated[
    float,
    BeforeValidator(templated(parse_duration)),
    PlainSerializer(duration_text, return_type=str),
]
"""Seconds, written with a unit in YAML (``250ms``, ``2s``, ``1m``)."""
Rate = Annotated[float, BeforeValidator(templated(parse_rate))]
"""Events per second, written ``N/s`` (or ``/m``, ``/h``, ``/ms``)."""
Fraction = Annotated[float, BeforeValidator(templated(parse_fraction))]
"""0..1, written ``0.99`` or ``99%``."""

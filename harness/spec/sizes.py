"""Strict parsing of byte sizes (``16MiB``) and byte rates (``100KB/s``).

A disk's size, a toxic's byte limit and a bandwidth are written with a unit, like every
duration: a bare number is refused, so ``rate: 100`` cannot silently mean bytes where the
author thought of kilobytes (Toxiproxy's ``rate`` is in KB/s, ours says so in the text).
``KB``/``MB``/``GB`` are powers of 1000, ``KiB``/``MiB``/``GiB`` powers of 1024.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB)\s*$")
_RATE = re.compile(r"^\s*(.+?)\s*/\s*(ms|s|m|h)\s*$")
_SCALE = {
    "B": 1,
    "KB": 1000,
    "MB": 1000**2,
    "GB": 1000**3,
    "KiB": 1024,
    "MiB": 1024**2,
    "GiB": 1024**3,
}
_PER_SECOND = {"ms": 1000.0, "s": 1.0, "m": 1 / 60.0, "h": 1 / 3600.0}


def parse_size(value: Any) -> int:
    """``"16MiB"`` → 16777216 bytes. Whole bytes; zero is allowed (``limit_data: 0B``)."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(f"expected a size such as '512B', '64KiB' or '16MiB', got {value!r}")
    match = _SIZE.match(value)
    if not match:
        raise ValueError(f"expected a size such as '512B', '64KiB' or '16MiB', got {value!r}")
    return int(Decimal(match.group(1)) * _SCALE[match.group(2)])


def parse_byte_rate(value: Any) -> float:
    """``"100KB/s"`` → 100000.0 bytes per second. Must be above zero."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(f"expected a byte rate such as '100KB/s' or '1MiB/s', got {value!r}")
    match = _RATE.match(value)
    if not match:
        raise ValueError(f"expected a byte rate such as '100KB/s' or '1MiB/s', got {value!r}")
    per_second = parse_size(match.group(1)) * _PER_SECOND[match.group(2)]
    if per_second <= 0:
        raise ValueError(f"a byte rate must be above zero, got {value!r}")
    return per_second


def _size_text(size: int) -> str:
    return f"{size}B"


def _rate_text(rate: float) -> str:
    return f"{round(rate)}B/s"


Size = Annotated[int, BeforeValidator(parse_size), PlainSerializer(_size_text, return_type=str)]
"""Bytes, written with a unit in YAML (``512B``, ``64KiB``, ``16MiB``)."""
ByteRate = Annotated[
    float, BeforeValidator(parse_byte_rate), PlainSerializer(_rate_text, return_type=str)
]
"""Bytes per second, written ``SIZE/s`` (``100KB/s``, ``1MiB/s``)."""

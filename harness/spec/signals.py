"""Signals as authors write them (``SIGKILL``, ``KILL``, ``9``) and as reports show them."""

from __future__ import annotations

import signal as _signal
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

from harness.spec.units import templated


def parse_signal(value: Any) -> int:
    """``SIGKILL``, ``KILL`` or ``9`` → 9. Unknown names are refused."""
    if isinstance(value, bool):
        raise ValueError(f"expected a signal name such as SIGKILL, got {value!r}")
    if isinstance(value, int):
        try:
            return int(_signal.Signals(value))
        except ValueError:
            raise ValueError(f"{value} is not a signal number on this system") from None
    if isinstance(value, str):
        name = value.strip().upper()
        if not name.startswith("SIG"):
            name = "SIG" + name
        try:
            return int(_signal.Signals[name])
        except KeyError:
            raise ValueError(
                f"unknown signal {value!r}; expected e.g. SIGTERM or SIGKILL"
            ) from None
    raise ValueError(f"expected a signal name such as SIGKILL, got {value!r}")


def signal_name(signum: int) -> str:
    """9 → ``SIGKILL``: how signals are written back in journals and reports."""
    return _signal.Signals(signum).name


Signal = Annotated[
    int, BeforeValidator(templated(parse_signal)), PlainSerializer(signal_name, return_type=str)
]
"""A signal number, written ``SIGKILL``, ``KILL`` or ``9`` in YAML (or a template of vars,
as a duration may be). Use it in fault specs."""

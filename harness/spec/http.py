"""``HttpCall``: one HTTP call as a scenario writes it (readiness, probes, workloads, faults)."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from harness.spec.base import Frozen
from harness.spec.units import Duration


class HttpCall(Frozen):
    """``{url, method: GET, json?, headers: {}, timeout: 2s}``; the URL is a template."""

    url: str
    method: str = "GET"
    json_body: Any = Field(default=None, alias="json")
    headers: dict[str, str] = Field(default_factory=dict)
    timeout: Duration = 2.0

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

"""``http`` probes: a JSON-over-HTTP call; a reading is ok on a 2xx answer with a JSON body."""

from __future__ import annotations

from harness.observe.http import compact, http_json
from harness.observe.probes.base import ProbeKind, Reading, Resolve
from harness.spec.http import HttpCall
from harness.spec.kinds import ProbeSpec

_TEXT_LIMIT = 1024


class HttpProbeSpec(HttpCall, ProbeSpec):
    """``http: {url, method: GET, json?, headers: {}, timeout: 2s}``."""


def read(spec: HttpProbeSpec, resolve: Resolve, instance: int) -> Reading:
    """One call; a non-JSON answer is a failed reading that keeps the text it got."""
    answer = http_json(
        spec.method,
        resolve(spec.url, instance),
        json_body=spec.json_body,
        headers={k: resolve(v, instance) for k, v in spec.headers.items()},
        timeout=spec.timeout,
    )
    error = answer.error
    if error is None and not answer.is_json:
        error = "the answer is not JSON"
    return Reading(
        ok=answer.ok and answer.is_json,
        status=answer.status,
        value=answer.value if answer.is_json else compact(answer.value, _TEXT_LIMIT),
        error=error,
        latency_s=answer.latency_s,
    )


def _timeout(spec: HttpProbeSpec) -> float:
    return spec.timeout


KIND = ProbeKind("http", HttpProbeSpec, read, _timeout)

"""``http`` workloads: JSON-over-HTTP calls, a new connection each or kept alive in a pool.

``keep_alive: false`` (the default) opens a connection per request with ``Connection:
close``: every request measures the system afresh, and a killed or frozen process that
held no connection costs nothing. ``keep_alive: true`` sends over a pool of ``connections``
persistent HTTP/1.1 connections (``harness.workload.pool``), as browsers, proxies and
client libraries do: a connection held by a frozen worker stalls its requests until their
timeout, and one whose worker was killed fails its next request.
"""

from __future__ import annotations

import http.client
from typing import Annotated

from pydantic import Field

from harness.observe.http import (
    decode,
    describe_error,
    encode_request,
    http_json,
    loopback_target,
)
from harness.spec.http import HttpCall
from harness.spec.kinds import WorkloadKindSpec
from harness.workload.base import Answer, Target, WorkloadKind
from harness.workload.pool import ConnectionPool, PoolClosed


class HttpWorkloadSpec(HttpCall, WorkloadKindSpec):
    """``http: {url, method: GET, json?, headers: {}, timeout: 2s, keep_alive: false,
    connections: 8}``."""

    keep_alive: bool = False
    connections: Annotated[int, Field(ge=1, le=512)] = 8
    """Size of the pool with ``keep_alive``: persistent connections at most."""


class _Call:
    """What every request of one instance sends: method, URL, headers, body."""

    def __init__(self, spec: HttpWorkloadSpec, target: Target) -> None:
        self.spec = spec
        self.url = target.resolve(spec.url)
        try:
            self.host, self.port, self.path = loopback_target(self.url)
        except ValueError:
            raise ValueError(f"refusing non-loopback {self.url!r}") from None
        self.headers = {k: target.resolve(v) for k, v in spec.headers.items()}


class FreshClient:
    """A new connection per request (``Connection: close``)."""

    def __init__(self, spec: HttpWorkloadSpec, target: Target) -> None:
        self._call = _Call(spec, target)

    def call(self) -> Answer:
        spec = self._call.spec
        answer = http_json(
            spec.method,
            self._call.url,
            json_body=spec.json_body,
            headers=self._call.headers,
            timeout=spec.timeout,
        )
        return Answer(
            status=answer.status, error=answer.error, value=answer.value, structured=answer.is_json
        )

    def close(self) -> None:
        """Nothing is kept between requests."""


class KeepAliveClient:
    """Requests over a pool of persistent connections (``keep_alive: true``)."""

    def __init__(self, spec: HttpWorkloadSpec, target: Target) -> None:
        self._call = _Call(spec, target)
        self._body, self._headers = encode_request(
            spec.json_body, self._call.headers, keep_alive=True
        )
        self.pool = ConnectionPool(self._call.host, self._call.port, spec.connections, spec.timeout)

    def call(self) -> Answer:
        spec = self._call.spec
        try:
            connection = self.pool.acquire(spec.timeout)
        except PoolClosed:
            return Answer(error="stopped: the workload's connections were closed")
        if connection is None:
            return Answer(
                error=f"timeout after {spec.timeout:g}s waiting for one of "
                f"{spec.connections} kept-alive connections"
            )
        reusable = False
        try:
            connection.request(
                spec.method.upper(), self._call.path, body=self._body, headers=self._headers
            )
            response = connection.getresponse()
            raw = response.read()
            reusable = not response.will_close
            value, structured = decode(raw)
            return Answer(status=response.status, value=value, structured=structured)
        except (OSError, http.client.HTTPException) as exc:
            return Answer(error=describe_error(exc, spec.timeout))
        finally:
            self.pool.release(connection, reusable=reusable)

    def close(self) -> None:
        self.pool.close()


def _open(spec: HttpWorkloadSpec, target: Target) -> FreshClient | KeepAliveClient:
    return KeepAliveClient(spec, target) if spec.keep_alive else FreshClient(spec, target)


def _two_hundreds(status: int) -> bool:
    return 200 <= status < 300


KIND = WorkloadKind("http", HttpWorkloadSpec, _open, ok_default=_two_hundreds)

"""A tiny JSON-over-HTTP client for probes, workloads, the ``request`` fault and the ledger.

Stdlib only (``http.client``), one connection per call, so a killed server shows up as a
plain transport error on the next call instead of a stale pooled socket (the keep-alive
workload keeps its own pool, ``harness.workload.pool``, with the same encoding and errors).
Loopback only: the harness breaks a system on this machine and must never send traffic
anywhere else, so a non-loopback host is refused with ``ValueError`` before anything is sent.
"""

from __future__ import annotations

import errno
import http.client
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from harness.spec.loopback import is_loopback

_BODY_LIMIT = 4096


@dataclass(frozen=True)
class HttpAnswer:
    """What one call produced.

    ``status`` is ``None`` when no HTTP answer came back, and then ``error`` says why
    (``connection refused``, ``connection reset``, ``timeout after 2s``...). ``value`` is the
    decoded JSON body when ``is_json``, else the body text (``None`` when empty).
    """

    status: int | None
    value: Any
    error: str | None
    latency_s: float
    is_json: bool = False

    @property
    def ok(self) -> bool:
        """A 2xx answer."""
        return self.status is not None and 200 <= self.status < 300


def http_json(
    method: str,
    url: str,
    *,
    json_body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float,
) -> HttpAnswer:
    """Send one request and decode the answer; transport failures become ``error`` text.

    Raises ``ValueError`` for a URL that is not ``http://`` to a loopback host.
    """
    host, port, path = loopback_target(url)
    body, send_headers = encode_request(json_body, headers, keep_alive=False)
    started = time.monotonic()
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request(method.upper(), path, body=body, headers=send_headers)
        response = connection.getresponse()
        raw = response.read()
        status = response.status
    except (OSError, http.client.HTTPException) as exc:
        return HttpAnswer(None, None, describe_error(exc, timeout), time.monotonic() - started)
    finally:
        connection.close()
    latency = time.monotonic() - started
    value, parsed = decode(raw)
    return HttpAnswer(status, value, None, latency, parsed)


def loopback_target(url: str) -> tuple[str, int, str]:
    """``(host, port, path with query)`` of an ``http://`` URL to a loopback host.

    Raises ``ValueError`` for any other URL, before anything is sent.
    """
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"expected an http:// URL to a loopback host, got {url!r}")
    if not is_loopback(parts.hostname):
        raise ValueError(
            f"refusing to send to {parts.hostname!r}: the harness only talks to loopback "
            "(127.0.0.1, ::1, localhost)"
        )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.hostname, parts.port or 80, path


def encode_request(
    json_body: Any, headers: dict[str, str] | None, *, keep_alive: bool
) -> tuple[bytes | None, dict[str, str]]:
    """The body and headers of one request: JSON when there is a body; ``Connection:
    close`` unless the connection is kept alive (HTTP/1.1's default); the scenario's own
    headers last, so they win."""
    send_headers = {"Accept": "application/json"}
    if not keep_alive:
        send_headers["Connection"] = "close"
    body: bytes | None = None
    if json_body is not None:
        body = json.dumps(json_body).encode()
        send_headers["Content-Type"] = "application/json"
    send_headers.update(headers or {})
    return body, send_headers


def describe_error(exc: BaseException, timeout: float) -> str:
    """Short, stable text for a transport failure (what a report shows)."""
    if isinstance(exc, TimeoutError):
        return f"timeout after {timeout:g}s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, BrokenPipeError):
        return "broken pipe"
    if isinstance(exc, http.client.RemoteDisconnected):
        return "connection closed without an answer"
    if isinstance(exc, OSError) and exc.errno is not None:
        name = errno.errorcode.get(exc.errno, str(exc.errno))
        return f"{name}: {exc.strerror or exc}"
    return f"{type(exc).__name__}: {exc}"


def compact(value: Any, limit: int = _BODY_LIMIT) -> Any:
    """``value`` as is when its JSON text is small; else a truncated string (journal size)."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
        value = text
    if len(text) <= limit:
        return value
    return text[:limit] + f"... ({len(text) - limit} more characters)"


_MISSING = object()


def at_path(value: Any, path: str, default: Any = None) -> Any:
    """The field at dotted ``path`` (``job.id``, ``items.0.id``) of a JSON value, or
    ``default`` when any step is missing."""
    current = value
    for step in path.split("."):
        if isinstance(current, dict):
            current = current.get(step, _MISSING)
        elif isinstance(current, list) and step.lstrip("-").isdigit():
            index = int(step)
            current = current[index] if -len(current) <= index < len(current) else _MISSING
        else:
            return default
        if current is _MISSING:
            return default
    return current


def decode(raw: bytes) -> tuple[Any, bool]:
    """The body as JSON when it is JSON (and whether it was), else as text."""
    if not raw:
        return None, False
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text), True
    except ValueError:
        return text, False

"""``tcp`` workloads: plain TCP request/reply (Redis-like line protocols, custom servers).

Each request opens a connection to a loopback ``host:port``, sends ``send`` (UTF-8; YAML's
double-quoted escapes such as ``\\r\\n`` give control bytes), and reads until the reply
matches ``expect`` (``re.search`` on the text received so far), the server closes, 64 KiB
arrived or ``timeout`` (for the whole request) passed. Ok means the reply matched; its
named groups (or else the matched text) are the answer that ``record`` reads.
"""

from __future__ import annotations

import re
import socket
import time
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field

from harness.observe.http import compact, describe_error
from harness.spec.kinds import WorkloadKindSpec
from harness.spec.loopback import is_loopback, loopback_for
from harness.spec.regex import Regex
from harness.spec.units import Duration
from harness.workload.base import Answer, Target, WorkloadKind

READ_LIMIT = 64 * 1024
"""Bytes of one reply read at most: a server that streams forever cannot hold a thread."""

_SHOWN = 200


def _port_text(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


class TcpWorkloadSpec(WorkloadKindSpec):
    """``tcp: {port, host: 127.0.0.1, send: "", expect, timeout: 2s}``."""

    not_templates: ClassVar[frozenset[str]] = frozenset({"send"})

    port: Annotated[str, BeforeValidator(_port_text)]
    """A port number or a template (``"{port}"``)."""
    host: str = "127.0.0.1"
    send: str = ""
    """Bytes to send (UTF-8), as written: never a template, so JSON braces are fine."""
    expect: Regex
    timeout: Annotated[Duration, Field(gt=0)] = 2.0


class TcpClient:
    """A connection per request; the reply judged by ``expect``."""

    def __init__(self, spec: TcpWorkloadSpec, target: Target) -> None:
        self._spec = spec
        # a wildcard host (accepted at load, as for ports a system listens on): this machine
        self._host = loopback_for(target.resolve(spec.host))
        if not is_loopback(self._host):
            raise ValueError(f"refusing non-loopback host {self._host!r}")
        port = target.resolve(spec.port)
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"expected a port number, {spec.port!r} gave {port!r}")
        self._port = int(port)
        self._payload = spec.send.encode()
        self._pattern = re.compile(spec.expect)

    def call(self) -> Answer:
        timeout = self._spec.timeout
        deadline = time.monotonic() + timeout
        received = b""
        try:
            with socket.create_connection((self._host, self._port), timeout=timeout) as sock:
                if self._payload:
                    sock.sendall(self._payload)
                while len(received) < READ_LIMIT:
                    if (match := self._pattern.search(_text(received))) is not None:
                        return _matched(match)
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise TimeoutError
                    sock.settimeout(remaining)
                    chunk = sock.recv(READ_LIMIT - len(received))
                    if not chunk:
                        break
                    received += chunk
        except OSError as exc:
            error = describe_error(exc, timeout)
            if received:
                error += f" (after {_shown(received)})"
            return Answer(ok=False, error=error, value=compact(_text(received), _SHOWN))
        if (match := self._pattern.search(_text(received))) is not None:
            return _matched(match)
        why = "the server closed" if len(received) < READ_LIMIT else f"{READ_LIMIT} bytes read"
        return Answer(
            ok=False,
            error=f"the reply did not match {self._spec.expect!r} ({why}; got {_shown(received)})",
            value=compact(_text(received), _SHOWN),
        )

    def close(self) -> None:
        """Nothing is kept between requests."""


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _shown(data: bytes) -> str:
    text = _text(data)
    return repr(text if len(text) <= _SHOWN else text[:_SHOWN] + "…")


def _matched(match: re.Match[str]) -> Answer:
    groups = match.groupdict()
    if groups:
        return Answer(ok=True, value=groups, structured=True)
    return Answer(ok=True, value=compact(match.group(0), _SHOWN))


KIND = WorkloadKind("tcp", TcpWorkloadSpec, TcpClient, ok_default=None)

"""The supervisor's HTTP API: gateway to the backend, status, jobs, data, daemon control.

One ``ThreadingHTTPServer``; every answer is JSON and carries the instance id and the pid
of the answering process. The echo route is the Jan fix: when the backend is down it waits
for the supervisor to report it healthy again and retries, within a bounded window, and
only then answers 503 ``recovering`` (``client-no-retry``: 502 at once). Each call to
the backend has a timeout within that window, so a backend that answers too late is a
503 too, not a hung client (``no-backend-timeout``: it waits as long as the backend takes).
A write the storage refuses (disk full, read-only) is a clear 507/503 answer.
"""

from __future__ import annotations

import errno
import http.client
import json
import os
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from harness.testbed import jobs
from harness.testbed.config import Options
from harness.testbed.daemon import Daemon, DaemonError
from harness.testbed.instance import BadKeyError, DataDir
from harness.testbed.supervisor import Supervisor

MAX_ATTEMPTS = 20
Answer = tuple[int, dict[str, Any]]


@dataclass
class App:
    """What the routes need; shared by all request threads."""

    options: Options
    supervisor: Supervisor
    daemon: Daemon
    data: DataDir
    port: int = 0
    _local: threading.local = field(default_factory=threading.local)

    def base(self) -> dict[str, Any]:
        """Fields every answer carries."""
        return {"instance": self.options.instance_id, "pid": os.getpid()}

    def queue(self) -> sqlite3.Connection:
        """This thread's connection to the job queue."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = jobs.connect(self.data.queue_path)
            self._local.conn = conn
        return conn

    def crash(self, exc: BaseException) -> None:
        """The ``crash-on-unknown-id`` bug: let the error take the main loop down."""

        def propagate() -> None:
            raise exc

        self.supervisor.loop.call_soon_threadsafe(propagate)

    # --- routes --------------------------------------------------------------------------

    def route(self, method: str, path: str, body: Any) -> Answer | None:
        """Dispatch; None means: answer nothing (the process is going down)."""
        try:
            return self._route(method, path, body)
        except sqlite3.OperationalError as exc:  # the queue's disk is full or read-only
            return storage_error(str(exc), full="full" in str(exc))
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EROFS, errno.EDQUOT):
                raise
            return storage_error(os.strerror(exc.errno), full=exc.errno != errno.EROFS)

    def _route(self, method: str, path: str, body: Any) -> Answer | None:
        parts = [p for p in path.split("/") if p]
        key = (method, *parts[:1])
        try:
            if key == ("GET", "health"):
                return 200, {"ok": True, "port": self.port}
            if key == ("GET", "ready"):
                ready = self.supervisor.ready()
                return (200 if ready else 503), {"ready": ready}
            if key == ("GET", "status"):
                return 200, self.status()
            if method == "POST" and parts == ["api", "echo"]:
                return self.echo(body)
            if parts[:1] == ["jobs"]:
                return self.jobs_route(method, parts[1:], body)
            if parts[:1] == ["data"] and len(parts) == 2:
                return self.data_route(method, parts[1], body)
            return self.daemon_route(method, parts, body)
        except DaemonError as exc:
            if self.options.bug("crash-on-unknown-id"):
                self.crash(exc)
                return None
            return exc.status, {"error": str(exc)}
        except BadKeyError as exc:
            return 400, {"error": str(exc)}

    def status(self) -> dict[str, Any]:
        """The /status document."""
        return {
            "port": self.port,
            "data_dir": str(self.data.path),
            "bugs": sorted(self.options.bugs),
            **self.supervisor.status(),
        }

    def echo(self, body: Any) -> Answer:
        """Proxy to the backend, riding out its restarts within the retry window."""
        text = body.get("text") if isinstance(body, dict) else None
        no_retry = self.options.bug("client-no-retry")
        deadline = time.monotonic() + self.options.retry_window_s
        attempts, last = 0, "backend not running"
        while True:
            gen, running, port = self.supervisor.backend_endpoint()
            if running and port:
                attempts += 1
                host, port = self.backend_address(port)
                timeout: float | None = max(0.2, min(2.0, deadline - time.monotonic()))
                if self.options.bug("no-backend-timeout"):
                    timeout = None
                try:
                    got = call_backend(host, port, text, timeout)
                except (OSError, http.client.HTTPException, ValueError) as exc:
                    last = f"{type(exc).__name__}: {exc}"
                else:
                    return 200, {
                        "text": got.get("text"),
                        "backend_pid": got.get("backend_pid"),
                        "backend_instance": got.get("instance"),
                        "attempts": attempts,
                    }
            left = deadline - time.monotonic()
            if no_retry:
                return 502, {"error": f"failed to fetch: {last}"}
            if left <= 0 or attempts >= MAX_ATTEMPTS:
                return 503, {"error": "recovering", "detail": last, "attempts": attempts}
            self.supervisor.wait_backend_change(gen, min(left, 0.5))

    def backend_address(self, port: int) -> tuple[str, int]:
        """Where to call the backend: its own port, or the address given (a proxy)."""
        if not self.options.backend_address:
            return "127.0.0.1", port
        host, _, given = self.options.backend_address.rpartition(":")
        return host or "127.0.0.1", int(given)

    def jobs_route(self, method: str, rest: list[str], body: Any) -> Answer:
        """POST /jobs, GET /jobs, GET /jobs/ID."""
        conn = self.queue()
        if method == "POST" and not rest:
            spec = body if isinstance(body, dict) else {}
            seconds = float(spec.get("seconds", 0.2))
            retries = max(0, min(int(spec.get("retries", 0)), 10))
            job_id = jobs.enqueue(conn, seconds, bool(spec.get("poison", False)), retries)
            self.supervisor.loop.call_soon_threadsafe(self.supervisor.notify_workers)
            return 201, {"id": job_id}
        if method == "GET" and not rest:
            return 200, {"counts": jobs.counts(conn), **jobs.counts(conn)}
        if method == "GET" and len(rest) == 1:
            job = jobs.get(conn, rest[0])
            if job is None:
                return 404, {"error": f"no job with id {rest[0]!r}"}
            return 200, job
        return 405, {"error": f"{method} not allowed here"}

    def data_route(self, method: str, key: str, body: Any) -> Answer:
        """PUT/GET /data/KEY in the instance's data folder."""
        where = {"key": key, "data_dir": str(self.data.path)}
        if method == "PUT":
            self.data.put(key, body)
            return 200, {**where, "value": body}
        if method == "GET":
            found, value = self.data.get(key)
            if not found:
                return 404, {**where, "error": f"no data for key {key!r}"}
            return 200, {**where, "value": value}
        return 405, {"error": f"{method} not allowed here"}

    def daemon_route(self, method: str, parts: list[str], body: Any) -> Answer:
        """Dataflows, nodes and the canary."""
        d = self.daemon
        if method == "GET" and parts == ["canary"]:
            return 200, d.canary()
        if parts[:1] == ["dataflows"]:
            if method == "GET" and len(parts) == 1:
                return 200, {"dataflows": d.dataflows()}
            if method == "POST" and len(parts) == 1:
                spec = body if isinstance(body, dict) else {}
                flow = d.start_dataflow(
                    int(spec.get("ticks", 20)), float(spec.get("period_ms", 50))
                )
                return 201, {"id": flow.id, "state": flow.state}
            if method == "POST" and len(parts) == 3 and parts[2] == "stop":
                flow = d.stop_dataflow(parts[1])
                return 200, {"id": flow.id, "state": flow.state}
        if method == "POST" and len(parts) == 3 and parts[0] == "nodes" and parts[2] == "config":
            return 200, d.node_config(parts[1], body)
        return 404, {"error": f"no route {method} /{'/'.join(parts)}"}


def storage_error(detail: str, *, full: bool) -> Answer:
    """507 when the disk is full, 503 when it refuses writes otherwise: never a dropped
    connection, never a success for a write that did not happen."""
    error = "storage full" if full else "storage refuses writes"
    return (507 if full else 503), {"error": error, "detail": detail}


def call_backend(host: str, port: int, text: Any, timeout: float | None) -> dict[str, Any]:
    """POST /echo to the backend at ``host:port`` (``timeout`` None: wait forever)."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(
            "POST", "/echo", json.dumps({"text": text}), {"Content-Type": "application/json"}
        )
        resp = conn.getresponse()
        value = json.loads(resp.read() or b"{}")
        if resp.status != 200 or not isinstance(value, dict):
            raise ValueError(f"backend answered {resp.status}")
        return value
    finally:
        conn.close()


class Handler(BaseHTTPRequestHandler):
    """Parse JSON, call ``App.route``, write JSON."""

    server: GatewayServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: access logs would drown the log the harness tails."""

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            self._send(400, {"error": "body is not JSON"})
            return
        try:
            result = self.server.app.route(self.command, self.path.split("?")[0], body)
        except (ValueError, TypeError) as exc:
            result = (400, {"error": f"bad request: {exc}"})
        if result is None:
            self.close_connection = True
            return
        self._send(*result)

    def _send(self, status: int, value: dict[str, Any]) -> None:
        payload = json.dumps({**value, **self.server.app.base()}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _handle


class GatewayServer(ThreadingHTTPServer):
    """The HTTP server; ``app`` is set before serving."""

    daemon_threads = True
    request_queue_size = 256  # the default of 5 resets connections under a burst of clients
    app: App


def bind(preferred: int) -> GatewayServer:
    """Bind the preferred port, or a free one if it is taken (said on stderr)."""
    try:
        return GatewayServer(("127.0.0.1", preferred), Handler)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
    server = GatewayServer(("127.0.0.1", 0), Handler)
    sys.stderr.write(
        f"[supervisor] port {preferred} is taken; using free port {server.server_address[1]}\n"
    )
    return server

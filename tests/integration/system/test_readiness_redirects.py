"""A system's redirect is its answer: readiness and ``chaos init`` never follow one.

A ``Location`` could name any host; following it would send the harness's traffic off
loopback (and call a 302 a 200). The redirecting server is a process of its own (a
socket of the test process would count as the harness's own, never the system's).
"""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from harness.run.survey import _http_answer
from harness.system.readiness import check_http

from .rig import PROGRAMS


class _Elsewhere(http.server.ThreadingHTTPServer):
    daemon_threads = True
    hits: list[str]


class _Hit(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        assert isinstance(self.server, _Elsewhere)
        self.server.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def redirect() -> Iterator[tuple[int, _Elsewhere]]:
    """(the port of a server redirecting every GET to ``elsewhere``, elsewhere)."""
    elsewhere = _Elsewhere(("127.0.0.1", 0), _Hit)
    elsewhere.hits = []
    threading.Thread(target=elsewhere.serve_forever, name="elsewhere", daemon=True).start()
    target = f"http://127.0.0.1:{elsewhere.server_port}/elsewhere"
    proc = subprocess.Popen(
        [sys.executable, str(PROGRAMS / "redirect.py"), target],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())  # printed once it listens
        yield port, elsewhere
    finally:
        proc.kill()
        proc.wait(10)
        assert proc.stdout is not None
        proc.stdout.close()
        elsewhere.shutdown()
        elsewhere.server_close()


def test_readiness_takes_a_redirect_as_the_answer(redirect: tuple[int, _Elsewhere]) -> None:
    port, elsewhere = redirect
    said = check_http(f"http://127.0.0.1:{port}/", 200, timeout=5.0)
    assert said is not None
    assert "status 302, expected 200" in said
    assert elsewhere.hits == []


def test_init_reports_the_redirect_and_follows_nothing(redirect: tuple[int, _Elsewhere]) -> None:
    port, elsewhere = redirect
    assert _http_answer(port) == ("/", 302)
    assert elsewhere.hits == []

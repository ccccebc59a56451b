"""Listening sockets from sock_diag are exactly those /proc/net/tcp{,6} lists as LISTEN."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from harness.system import sockets


@pytest.fixture
def listeners() -> Iterator[list[socket.socket]]:
    opened = []
    for family, address in (
        (socket.AF_INET, "127.0.0.1"),
        (socket.AF_INET6, "::1"),
        (socket.AF_INET6, "::"),
    ):
        sock = socket.socket(family)
        try:
            sock.bind((address, 0))
        except OSError:
            sock.close()
            continue
        sock.listen()
        opened.append(sock)
    connected = socket.socket()  # a connected, not listening, socket is never listed
    connected.connect(opened[0].getsockname())
    yield opened
    connected.close()
    for sock in opened:
        sock.close()


def test_both_readings_agree_and_list_only_listeners(listeners: list[socket.socket]) -> None:
    from_diag = sockets._diag_listening()
    assert from_diag == sockets._proc_listening()
    ports = {port for _, port in from_diag.values()}
    for sock in listeners:
        assert sock.getsockname()[1] in ports
    assert ("127.0.0.1", listeners[0].getsockname()[1]) in from_diag.values()
    assert sockets.listening_inodes() == from_diag

"""Several instances on one machine: own port, own data, own backend (Jan multi-instance)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from support import wait_until
from testbed_helpers import Factory, Testbed

pytestmark = pytest.mark.integration
SMALL = ("--modules", "0", "--workers", "0")


def echo_from(bed: Testbed) -> str:
    code, value = bed.http("POST", "/api/echo", {"text": "who"})
    assert code == 200, value
    return str(value["backend_instance"])


def test_two_instances_are_isolated(testbed: Factory) -> None:
    a = testbed(*SMALL, "--instance-id", "a")
    b = testbed(*SMALL, "--instance-id", "b")
    assert a.port != b.port
    assert a.slot("backend")["port"] != b.slot("backend")["port"]
    assert (echo_from(a), echo_from(b)) == ("a", "b")
    assert a.http("PUT", "/data/k", {"v": "a"})[0] == 200
    assert b.http("PUT", "/data/k", {"v": "b"})[0] == 200
    code, value = a.http("GET", "/data/k")
    assert (code, value["value"], value["instance"]) == (200, {"v": "a"}, "a")
    assert value["data_dir"] == str((a.data_dir / "a").resolve())
    assert a.slot("backend")["restarts"] == 0


def test_a_second_instance_on_the_same_data_dir_fails_clearly(
    testbed: Factory, tmp_path: Path
) -> None:
    data = tmp_path / "one"
    testbed(*SMALL, data_dir=data)
    second = testbed(*SMALL, data_dir=data, wait_ready=False)
    assert second.proc.wait(20) == 3
    assert "is in use by another instance" in second.log()


def test_instances_with_ids_on_one_data_dir_keep_their_own_data(
    testbed: Factory, tmp_path: Path
) -> None:
    data = tmp_path / "one"
    a = testbed(*SMALL, "--instance-id", "a", data_dir=data)
    b = testbed(*SMALL, "--instance-id", "b", data_dir=data)
    a.http("PUT", "/data/k", {"v": "a"})
    b.http("PUT", "/data/k", {"v": "b"})
    assert a.http("GET", "/data/k")[1]["value"] == {"v": "a"}
    assert b.http("GET", "/data/k")[1]["value"] == {"v": "b"}


def test_shared_data_lets_instances_overwrite_each_other(testbed: Factory, tmp_path: Path) -> None:
    data = tmp_path / "one"
    a = testbed(*SMALL, "--instance-id", "a", "--bugs", "shared-data", data_dir=data)
    b = testbed(*SMALL, "--instance-id", "b", "--bugs", "shared-data", data_dir=data)
    a.http("PUT", "/data/k", {"v": "a"})
    b.http("PUT", "/data/k", {"v": "b"})
    assert a.http("GET", "/data/k")[1]["value"] == {"v": "b"}  # not what a wrote


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_fixed_port_start_up_clean_up_ends_the_other_instances_backend(testbed: Factory) -> None:
    # The bug's own port (29291 by default) may be held by another run of the bug on this
    # machine (the detection matrix): this test fixes its own.
    fixed = free_port()
    bug = ("--bugs", "fixed-port", "--fixed-port", str(fixed))
    a = testbed(*SMALL, "--instance-id", "a", *bug, "--retry-window", "1s")
    first = a.slot("backend")["pid"]
    assert a.slot("backend")["port"] == fixed
    b = testbed(*SMALL, "--instance-id", "b", *bug, wait_ready=False)
    wait_until(lambda: "destroyed on request" in a.log(), what="a's backend destroyed by b")
    # b says so once a's answer reaches it: a moment after a's own line.
    wait_until(
        lambda: "start-up clean-up: destroyed the backend" in b.log(), what="b's account of it"
    )
    entry = a.wait_slot("backend", "noticed dead", lambda s: s["pid"] != first)
    assert entry["restarts"] >= 1

    # Then the two fight over one port: one side's backend cannot bind, or a's gateway now
    # reaches b's backend.
    def fight() -> bool:
        if f"cannot bind 127.0.0.1:{fixed}" in a.log() + b.log():
            return True
        code, value = a.http("POST", "/api/echo", {"text": "who"})
        return code == 200 and value["backend_instance"] == "b"

    wait_until(fight, what="a port fight")

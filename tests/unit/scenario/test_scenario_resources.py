"""``proxies:`` and ``disks:``: what a scenario may declare, the templates they give, and
the clear refusal of what would make a proxy or a disk lie (readiness through a proxy, a
proxy forwarding off the machine or to itself, a size without a unit)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.errors import ScenarioError
from harness.run.catalog import scenario_from_mapping
from harness.scenario.templates import port_names, resolve, values_for
from harness.spec.sizes import parse_byte_rate, parse_size


def scenario(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "system": {"command": ["{python}", "-m", "app", "--backend", "{proxy.backend}"]},
        "proxies": {"backend": {"upstream": "127.0.0.1:{port.backend}"}},
        "disks": {"data": {"size": "4MiB"}},
    }
    body.update(extra)
    return body


def refused(body: dict[str, Any], words: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        scenario_from_mapping(body)
    assert words in str(info.value), str(info.value)
    return info.value


def test_proxies_and_disks_load_and_give_their_templates() -> None:
    loaded = scenario_from_mapping(
        scenario(
            workload=[
                {
                    "name": "ui",
                    "http": {"url": "http://127.0.0.1:{proxy.backend}/x"},
                    "rate": "1/s",
                }
            ],
            faults=[
                {"at": "1s", "latency": {"proxy": "backend", "latency": "2s", "for": "1s"}},
                {"at": "1s", "disk_full": {"disk": "data", "for": "1s"}},
            ],
        )
    )
    assert loaded.proxies["backend"].upstream == "127.0.0.1:{port.backend}"
    assert loaded.proxies["backend"].listen == "127.0.0.1"
    assert loaded.disks["data"].size == 4 << 20
    assert port_names(loaded) == {"backend"}  # the upstream's port is allocated too
    values = values_for(
        run_dir="/r",
        instance=0,
        ports={"backend": 5000},
        variables={},
        proxies={"backend": 6000},
        disks={"data": "/r/disks/data"},
    )
    assert resolve("{proxy.backend} {disk.data} {port.backend}", values) == (
        "6000 /r/disks/data 5000"
    )


def test_the_system_may_keep_its_data_on_a_declared_disk() -> None:
    body = scenario()
    body["system"]["command"] += ["--data-dir", "{disk.data}/db"]
    assert scenario_from_mapping(body).disks


def test_an_undeclared_proxy_or_disk_is_an_undefined_name() -> None:
    body = scenario()
    body["system"]["command"].append("{proxy.db}")
    refused(body, "undefined template name {proxy.db}")
    body = scenario()
    body["system"]["command"].append("{disk.logs}")
    refused(body, "undefined template name {disk.logs}")


def test_readiness_through_a_proxy_is_refused() -> None:
    body = scenario()
    body["system"]["ready"] = {"tcp": {"port": "{proxy.backend}"}}
    error = refused(body, "would check the proxy, which always accepts")
    assert error.field == "system.ready.tcp.port"


def test_a_proxy_cannot_forward_to_a_proxy() -> None:
    body = {
        "system": {"command": ["app"]},
        "proxies": {"a": {"upstream": "127.0.0.1:{proxy.a}"}},
    }
    refused(body, "a proxy cannot forward to another proxy")


@pytest.mark.parametrize(
    ("upstream", "words"),
    [
        ("10.0.0.1:80", "not a loopback address"),
        ("127.0.0.1", "expected HOST:PORT"),
        ("127.0.0.1:http", "expected a port number or a template"),
    ],
)
def test_an_upstream_must_be_a_loopback_host_and_port(upstream: str, words: str) -> None:
    refused(scenario(proxies={"backend": {"upstream": upstream}}), words)


def test_an_upstream_host_may_be_a_template_or_ipv6_loopback() -> None:
    for upstream in ("[::1]:{port.backend}", "{vars.host}:9000", "localhost:9000"):
        body = scenario(proxies={"backend": {"upstream": upstream}}, vars={"host": "127.0.0.1"})
        assert scenario_from_mapping(body).proxies["backend"].upstream == upstream


def test_a_proxy_listens_on_loopback_only() -> None:
    body = scenario(proxies={"backend": {"upstream": "127.0.0.1:1", "listen": "0.0.0.0"}})
    refused(body, "a proxy listens on a loopback address only")


def test_names_must_fit_a_template() -> None:
    refused(scenario(proxies={"a.b": {"upstream": "127.0.0.1:1"}}), "cannot be used in a template")


@pytest.mark.parametrize(
    ("size", "words"),
    [
        ("16", "expected a size such as"),
        (16, "expected a size such as"),
        ("1KiB", "must be at least 65536"),
        ("8GiB", "must be at most"),
    ],
)
def test_a_disk_size_has_a_unit_and_sane_bounds(size: Any, words: str) -> None:
    refused(scenario(disks={"data": {"size": size}}), words)


def test_faults_must_name_a_declared_proxy_or_disk() -> None:
    body = scenario(faults=[{"at": "1s", "latency": {"proxy": "db", "latency": "1s"}}])
    refused(body, "unknown proxy 'db'")
    body = scenario(faults=[{"at": "1s", "read_only": {"disk": "logs"}}])
    refused(body, "unknown disk 'logs'")
    body = {"system": {"command": ["x"]}, "faults": [{"at": "1s", "down": {"proxy": "api"}}]}
    refused(body, "the scenario defines no proxies")


@pytest.mark.parametrize(
    ("kind", "options", "words"),
    [
        ("latency", {}, "latency"),
        ("latency", {"latency": "1s", "direction": "sideways"}, "'upstream' or 'downstream'"),
        ("latency", {"latency": "1s", "toxicity": 2}, "within 0..1"),
        ("bandwidth", {"rate": "100"}, "expected a byte rate"),
        ("slicer", {"average_size": "0B"}, "must be at least 1"),
        ("limit_data", {"bytes": 100}, "expected a size"),
        ("down", {"direction": "upstream"}, "unknown field 'direction'"),
        ("timeout", {"timeout": 5}, "expected a duration"),
    ],
)
def test_toxic_options_are_checked(kind: str, options: dict[str, Any], words: str) -> None:
    body = scenario(faults=[{"at": "1s", kind: {"proxy": "backend", **options}}])
    refused(body, words)


# --------------------------------------------------------------------------- sizes


@pytest.mark.parametrize(
    ("text", "size"),
    [("512B", 512), ("64KiB", 65536), ("1.5KB", 1500), ("16MiB", 16 << 20), ("1GB", 10**9)],
)
def test_sizes(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "12", "12 kb", "1TB", "-1B", True, 3])
def test_a_size_without_a_known_unit_is_refused(text: Any) -> None:
    with pytest.raises(ValueError, match="expected a size"):
        parse_size(text)


def test_byte_rates() -> None:
    assert parse_byte_rate("100KB/s") == 100_000
    assert parse_byte_rate("1MiB/s") == 1 << 20
    assert parse_byte_rate("60KB/m") == 1000
    with pytest.raises(ValueError, match="above zero"):
        parse_byte_rate("0B/s")


@given(st.integers(min_value=0, max_value=1 << 40), st.sampled_from(["B", "KiB", "MB"]))
def test_size_text_round_trips(number: int, unit: str) -> None:
    scale = {"B": 1, "KiB": 1024, "MB": 1000**2}[unit]
    assert parse_size(f"{number}{unit}") == number * scale

"""The HTTP helper's guard: loopback only, and its JSON path lookup."""

from __future__ import annotations

import pytest

from harness.observe.http import at_path, compact, http_json
from harness.spec.loopback import is_loopback, loopback_for


@pytest.mark.parametrize(
    ("host", "reached"),
    [("0.0.0.0", "127.0.0.1"), ("::", "::1"), ("[::]", "::1"), ("127.0.0.2", "127.0.0.2")],
)
def test_a_wildcard_host_is_reached_on_loopback(host: str, reached: str) -> None:
    assert loopback_for(host) == reached


@pytest.mark.parametrize("host", ["127.0.0.1", "127.3.2.1", "::1", "[::1]", "localhost"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["10.0.0.1", "example.com", "0.0.0.0", "192.0.2.1", ""])
def test_other_hosts(host: str) -> None:
    assert not is_loopback(host)


@pytest.mark.parametrize(
    "url", ["http://192.0.2.1/x", "http://example.com/", "https://127.0.0.1/", "127.0.0.1:80"]
)
def test_http_json_refuses_before_sending(url: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        http_json("GET", url, timeout=0.1)


def test_at_path() -> None:
    value = {"job": {"id": 7, "tags": [{"n": "a"}, {"n": "b"}]}}
    assert at_path(value, "job.id") == 7
    assert at_path(value, "job.tags.1.n") == "b"
    assert at_path(value, "job.tags.-1.n") == "b"
    assert at_path(value, "job.tags.5.n") is None
    assert at_path(value, "job.missing", default="?") == "?"
    assert at_path("text", "id") is None


def test_compact_truncates_large_values_only() -> None:
    assert compact({"a": 1}) == {"a": 1}
    big = compact({"a": "x" * 100}, limit=20)
    assert isinstance(big, str)
    assert big.startswith('{"a": "xxxx')
    assert "more characters" in big

"""The ``workload`` section: one kind key per item, looked up in the workload registry, and
every problem located at the field the author wrote."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.errors import ScenarioError
from harness.scenario.loader import load_scenario, problems

HEAD = "system:\n  command: [sleep, '1']\nworkload:\n"


def _problems(tmp_path: Path, body: str, registries: dict[str, Any]) -> list[ScenarioError]:
    path = tmp_path / "s.yaml"
    path.write_text(HEAD + body, encoding="utf-8")
    return problems(path, **registries)


def where(found: list[ScenarioError]) -> list[tuple[int | None, str | None]]:
    return [(e.line, e.field) for e in found]


def test_kinds_and_their_options_load(tmp_path: Path, registries: dict[str, Any]) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        HEAD
        + "  - {name: ui, rate: 10/s, http: {url: 'http://127.0.0.1:{port}/', keep_alive: true}}\n"
        + "  - {name: kv, rate: 5/s, tcp: {port: '{port}', expect: '^\\+OK'}}\n",
        encoding="utf-8",
    )
    scenario = load_scenario(path, **registries)
    ui, kv = scenario.workload
    assert (ui.kind, kv.kind) == ("http", "tcp")
    assert ui.spec.model_dump()["keep_alive"] is True
    assert kv.spec.model_dump()["port"] == "{port}"


def test_problems_are_located_at_the_kind_and_its_fields(
    tmp_path: Path, registries: dict[str, Any]
) -> None:
    found = _problems(
        tmp_path,
        "  - {name: a, rate: 1/s, htp: {url: 'http://127.0.0.1/'}}\n"  # 4 unknown kind
        "  - {name: b, rate: 1/s}\n"  # 5 no kind
        "  - {name: c, rate: 1/s, http: {url: 'http://127.0.0.1/'}, tcp: {port: '1'}}\n"  # 6
        "  - name: d\n"
        "    rate: 1/s\n"
        "    http: {url: 'http://127.0.0.1/', keep_alive: maybe}\n"  # 9 bad option
        "  - {name: e, rate: 1/s, tcp: {port: '1', expect: '^ok'}, ok_status: [0]}\n"  # 10
        "  - {name: f, rate: often, http: {url: 'http://127.0.0.1/'}}\n"  # 11 bad rate
        "  - {name: g, rate: 1/s, http: [url]}\n",  # 12 options not a mapping
        registries,
    )
    assert where(found) == [
        (4, "workload[0].htp"),
        (5, "workload[1]"),
        (6, "workload[2]"),
        (9, "workload[3].http.keep_alive"),
        (10, "workload[4].ok_status"),
        (11, "workload[5].rate"),
        (12, "workload[6].http"),
    ]
    assert "did you mean 'http'?" in found[0].message
    assert "found none" in found[1].message
    assert "several: http, tcp" in found[2].message
    assert "no statuses" in found[4].message


def test_an_invalid_workload_keeps_the_index_of_the_next_one(
    tmp_path: Path, registries: dict[str, Any]
) -> None:
    found = _problems(
        tmp_path,
        "  - {name: a, rate: 1/s, htp: {}}\n"
        "  - {name: b, rate: 1/s, http: {url: 'http://127.0.0.1:{nope}/'}}\n",
        registries,
    )
    assert where(found) == [(4, "workload[0].htp"), (5, "workload[1].http.url")]

"""A scenario's digest: its YAML content, not its layout, comments or path."""

from __future__ import annotations

from pathlib import Path

from harness.run.catalog import load_scenario, scenario_from_mapping
from harness.run.fingerprint import content_digest, scenario_digest

BASE = """\
name: backend
repeat: 2
system: {command: [python3, -m, app], ready: {log: up}}
roles: {backend: {root: true}}
faults:
  - {at: 1s, kill: {role: backend}}
"""


def test_comments_layout_quoting_and_key_order_do_not_change_the_digest() -> None:
    same = """\
# the same scenario, written differently
system:
  ready: {log: "up"}
  command:
    - python3
    - -m
    - 'app'
repeat: 2      # trials
name: backend
roles:
  backend: {root: true}
faults: [{kill: {role: backend}, at: 1s}]
"""
    assert content_digest(same) == content_digest(BASE)


def test_anchors_count_by_what_they_expand_to() -> None:
    anchored = """\
name: backend
repeat: 2
system: {command: &cmd [python3, -m, app], ready: {log: up}}
roles: {backend: {root: true}}
faults:
  - {at: 1s, kill: {role: backend}}
"""
    assert content_digest(anchored) == content_digest(BASE)


def test_any_value_changes_the_digest() -> None:
    digests = {
        content_digest(BASE),
        content_digest(BASE.replace("at: 1s", "at: 2s")),
        content_digest(BASE.replace("repeat: 2", "repeat: 3")),
        content_digest(BASE.replace("[python3", "[python3.12")),
        content_digest(BASE + "duration: 5s\n"),
    }
    assert len(digests) == 5
    assert all(d.startswith("sha256:") and len(d) == len("sha256:") + 64 for d in digests)


def test_the_file_path_does_not_count(tmp_path: Path) -> None:
    here = tmp_path / "a" / "backend.yaml"
    there = tmp_path / "b" / "backend.yaml"
    for path in (here, there):
        path.parent.mkdir()
        path.write_text(BASE, encoding="utf-8")

    first, second = load_scenario(here), load_scenario(there)

    assert scenario_digest(first) == scenario_digest(second) == content_digest(BASE)


def test_a_scenario_written_in_code_has_no_digest() -> None:
    scenario = scenario_from_mapping({"name": "inline", "system": {"command": ["x"]}}, {})

    assert scenario_digest(scenario) is None

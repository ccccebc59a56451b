"""A scenario file's version, so journals from shards, hosts and reruns can be merged safely.

Merging trials of two different versions of a scenario into one report would pool recovery
times of two different experiments. Each journal therefore records, per scenario, the
SHA-256 of the file's *content*: the YAML document as the harness reads it (its own bounded
loader: anchors and merge keys expanded), dumped as canonical JSON (keys sorted, no
whitespace, UTF-8). Comments, layout, quoting and key order do not change the digest; any
value does. The file's path does not count either (a checkout elsewhere is the same
version); ``--var`` values are recorded on every trial and compared on their own.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

from harness.scenario import include
from harness.scenario.model import Scenario
from harness.scenario.source import SourceError, parse, read_source

PREFIX = "sha256:"


def canonical(value: Any) -> Any:
    """``value`` with every mapping key as text, so keys of mixed types can be sorted."""
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    return value


def content_digest(text: str, file: str | None = None) -> str:
    """``sha256:HEX`` of a scenario file's text, by its YAML content (see the module);
    with ``file``, its ``include``s merged in first, so a changed fragment is a new
    version."""
    data, lines = parse(text)
    if file is not None and isinstance(data, dict):
        # an include the loader refuses: the file's own content is the version then
        with contextlib.suppress(include.IncludeError):
            data, _ = include.expand(data, lines, file)
    dumped = json.dumps(
        canonical(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return PREFIX + hashlib.sha256(dumped.encode("utf-8")).hexdigest()


def scenario_digest(scenario: Scenario) -> str | None:
    """The digest of the file ``scenario`` was loaded from; ``None`` for a scenario written
    in code (no file), or a file that cannot be read again (moved away during the run)."""
    if not scenario.file:
        return None
    try:
        return content_digest(read_source(Path(scenario.file)), scenario.file)
    except (OSError, SourceError, yaml.YAMLError):
        return None

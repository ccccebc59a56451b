"""Property: whatever a scenario file holds, the loader answers with its own errors, each at
a line of the file, within a time and memory bound; it never raises anything else.

Inputs are the project's own scenarios (``scenarios/**/*.yaml``) mutated the ways a file
goes wrong (keys dropped, renamed, duplicated, values of another type, huge numbers,
unicode and control characters, deep nesting, aliases, tags, bytes that are not UTF-8),
generated YAML documents with shared (aliased) parts, and plain junk. Bounded to run in
seconds; a larger one-off run of the same strategies is how issue 12 was closed.
"""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.errors import ScenarioError
from harness.run.catalog import KINDS
from harness.scenario.include import is_fragment
from harness.scenario.loader import problems

ROOT = Path(__file__).resolve().parents[3]
SEEDS = [
    p.read_bytes()
    for p in sorted((ROOT / "scenarios").rglob("*.yaml"))
    # whole files only: a fragment, or a scenario including one, is not valid alone
    if not is_fragment(p) and b"\ninclude:" not in p.read_bytes()
]
TIME_BOUND_S = 2.0
"""Per input; a hostile file takes milliseconds (tens of ms under tracemalloc)."""
MEMORY_BOUND = 64 * 1024 * 1024
"""Peak Python allocations per input."""

TOKENS = [
    b"&a ",
    b"*a",
    b"<<: *a\n",
    b"&a [*a]",
    b"!!binary aGk=",
    b"!!python/object:os.system ",
    b"!!set {a}",
    b"!!float x",
    b"!!int y",
    b"!local ",
    b"[",
    b"]",
    b"{",
    b"}",
    b": ",
    b"- ",
    b"? ",
    b"\t",
    b"\x00",
    b"\x1b[31m",
    b"\xff",
    b"\xc3",
    b"\xed\xa0\x80",
    b"9" * 5000,
    b"0x" + b"f" * 500,
    b"1e999",
    b".nan",
    b"-.inf",
    b"true",
    b"null",
    b"~",
    b"'",
    b'"',
    b"|\n",
    b">-\n",
    b"#",
    b"%YAML 1.1\n",
    b"---\n",
    b"...\n",
    b"{port",
    b"}}",
    b"{{",
    b"{vars.",
    b"[/red]",
    b":100:",
    "é\u202e\u200bß".encode(),
    b"(" * 100,
    b"[" * 300,
    b"2024-13-45",
    b"1:30:00",
    b"99999",
    b"-1",
    b"0",
    b"10000000h",
    b"0ms",
    b"\r",
    b"\x85",
]
VALUES = [
    b"true",
    b"[]",
    b"{}",
    b"-1",
    b"99999",
    b"1e400",
    b"''",
    b"null",
    b"[a, b]",
    b"{x: 1}",
    b"'{nope}'",
    b"10h",
    b"999999h",
    b"http://10.0.0.1/",
    b"'http://127.0.0.1:99999/'",
    b"*a",
    b"&a x",
    b'"\\e[31m"',
    b"'[/red]'",
    b"!!binary aGk=",
    b"[" * 60 + b"]" * 60,
    b"'[[:alpha:]]'",
    b"'a{4294967296}'",
    b"'" + b"(" * 30 + b")" * 30 + b"'",
    b"'" + b"(" * 1000 + b")" * 1000 + b"'",
    b"9" * 5000,
    b"0x" + b"f" * 5000,
    b"[" * 500 + b"]" * 500,
    b"&r [*r]",
    b"&m {k: *m}",
]
LAUGHS = b"l0: &l0 [a, a, a, a, a, a, a, a, a]\n" + b"".join(
    b"l%d: &l%d [" % (i, i) + b", ".join([b"*l%d" % (i - 1)] * 9) + b"]\n" for i in range(1, 9)
)
"""Billion laughs: nine aliases of nine aliases... of a list, 387 million values expanded."""


@st.composite
def mutants(draw: st.DrawFn) -> bytes:
    """A real scenario with one to four things done to it."""
    lines = draw(st.sampled_from(SEEDS)).split(b"\n")
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            lines = [b""]
        at = draw(st.integers(0, len(lines) - 1))
        op = draw(
            st.sampled_from(["drop", "dup", "swap", "token", "value", "rename", "bytes", "bomb"])
        )
        if op == "bomb":
            where = draw(st.sampled_from(["top", "env"]))
            if where == "top":
                lines.insert(0, LAUGHS)
            else:
                lines = [
                    LAUGHS,
                    *(line.replace(b"system:", b"system:\n  env: {X: *l8}") for line in lines),
                ]
        elif op == "drop":
            del lines[at]
        elif op == "dup":
            lines.insert(at, lines[at])
        elif op == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[at], lines[other] = lines[other], lines[at]
        elif op == "token":
            line = lines[at]
            cut = draw(st.integers(0, len(line)))
            lines[at] = line[:cut] + draw(st.sampled_from(TOKENS)) + line[cut:]
        elif op == "value" and b": " in lines[at]:
            key = lines[at].split(b": ", 1)[0]
            lines[at] = key + b": " + draw(st.sampled_from(VALUES))
        elif op == "rename" and b":" in lines[at]:
            key, rest = lines[at].split(b":", 1)
            typo = draw(st.sampled_from([b"x", b"", b"s", b"_", b"\xc3\xa9"]))
            lines[at] = key[:-1] + typo + b":" + rest if key else rest
        elif op == "bytes":
            lines[at] += draw(st.binary(min_size=1, max_size=8))
    return b"\n".join(lines)


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(["1s", "20/s", "99%", "{port}", "SIGKILL", "http://127.0.0.1:{port}/"]),
)
KEYS = st.one_of(
    st.sampled_from(
        [
            "system",
            "command",
            "faults",
            "invariants",
            "roles",
            "at",
            "kill",
            "role",
            "vars",
            "workload",
            "probes",
            "http",
            "url",
            "duration",
            "timeout",
            "repeat",
            "count",
        ]
    ),
    st.text(max_size=8),
)


@st.composite
def documents(draw: st.DrawFn) -> bytes:
    """A generated YAML document, some of its parts shared (PyYAML writes them as aliases)."""
    shared = draw(st.lists(st.lists(SCALARS, max_size=5), min_size=1, max_size=3))
    tree = st.recursive(
        SCALARS | st.sampled_from(shared),
        lambda inner: st.lists(inner, max_size=5) | st.dictionaries(KEYS, inner, max_size=5),
        max_leaves=40,
    )
    body = draw(st.dictionaries(KEYS, tree, max_size=8))
    return yaml.safe_dump(body, allow_unicode=draw(st.booleans())).encode(
        "utf-8", errors="surrogatepass"
    )


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "scenario.yaml"


def check(target: Path, data: bytes) -> list[ScenarioError]:
    """Load ``data`` as a scenario file: only ``ScenarioError``s, each at a line, in bounds."""
    target.write_bytes(data)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        found = problems(target, kinds=KINDS)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < TIME_BOUND_S, f"{elapsed:.2f}s for {data[:200]!r}"
    assert peak < MEMORY_BOUND, f"{peak / 2**20:.0f} MiB for {data[:200]!r}"
    assert all(isinstance(e, ScenarioError) for e in found)
    assert all(e.file == str(target) and e.line is not None for e in found), found
    return found


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutants())
def test_mutated_scenarios_give_only_located_errors(target: Path, data: bytes) -> None:
    check(target, data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_generated_documents_give_only_located_errors(target: Path, data: bytes) -> None:
    check(target, data)


@settings(max_examples=150, deadline=None)
@given(
    st.binary(max_size=2000) | st.text(max_size=2000).map(lambda t: t.encode("utf-8", "replace"))
)
def test_junk_gives_only_located_errors(target: Path, data: bytes) -> None:
    check(target, data)


def test_the_seeds_are_valid(target: Path) -> None:
    """The mutations start from scenarios that load: every error above is one they made."""
    assert len(SEEDS) >= 10
    for seed in SEEDS:
        assert check(target, seed) == []

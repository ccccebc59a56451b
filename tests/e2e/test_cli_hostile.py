"""Issue 12's acceptance: ``chaos validate`` on a hostile file exits 2 with the file and a
line, no traceback, in under a second of CPU and under 100 MB of memory.

Each file is validated alone, one after the other, and measured by the kernel
(``wait4``: CPU time and peak resident memory of that one process, interpreter start-up
included, started from a small launcher so the memory is its own). Before the bounds, the
alias bombs ran for tens of seconds and gigabytes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from e2e_support import CHAOS, ROOT

pytestmark = pytest.mark.e2e

BROKEN = ROOT / "tests" / "data" / "scenarios" / "broken"
HOSTILE = [
    "alias_bomb",
    "alias_bomb_env",
    "alias_recursive",
    "alias_recursive_map",
    "deep_nesting",
    "regex_nested_groups",
    "regex_too_long",
    "huge_integer",
    "huge_hex_integer",
    "python_tag",
    "unsupported_tag",
    "markup_key",
    "link_key",
    "error_on_line_100",
    "nul_character",
    "control_character",
    "not_utf8",
    "brace_in_block",
]
CPU_BOUND_S = 1.0
MEMORY_BOUND = 100 * 1024 * 1024


@dataclass(frozen=True)
class Measured:
    returncode: int
    stdout: str
    stderr: str
    cpu_s: float
    max_rss: int


_LAUNCHER = """
import json, os, sys
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    json.dump([os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime,
               usage.ru_maxrss * 1024], out)
"""
"""Starts ``chaos`` from a small process: a child's peak RSS counts the memory of the
process it was forked from, and a pytest worker is itself near 100 MB."""


def validate(path: Path, home: Path) -> Measured:
    out, err, measured = home / "out.txt", home / "err.txt", home / "rusage.json"
    with out.open("w") as stdout, err.open("w") as stderr:
        subprocess.run(
            [sys.executable, "-I", "-S", "-c", _LAUNCHER, measured, CHAOS, "validate", path],
            stdout=stdout,
            stderr=stderr,
            check=True,
        )
    code, cpu_s, max_rss = json.loads(measured.read_text(encoding="utf-8"))
    return Measured(
        code, out.read_text(encoding="utf-8"), err.read_text(encoding="utf-8"), cpu_s, max_rss
    )


def generated(home: Path) -> dict[str, Path]:
    """Hostile files too big to commit."""
    system = 'system:\n  command: [sleep, "1"]\n'
    files = {
        "ten_megabytes": system + ("#" + "x" * 99 + "\n") * 100_000,
        "long_value": system + "description: " + "x" * 70_000 + "\n",
        "many_values": system + "tags: [" + ", ".join(["1"] * 80_000) + "]\n",  # 240 kB
    }
    paths = {}
    for name, text in files.items():
        paths[name] = home / f"{name}.yaml"
        paths[name].write_text(text, encoding="utf-8")
    return paths


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, Measured]]:
    home = tmp_path_factory.mktemp("hostile")
    paths = [BROKEN / f"{name}.yaml" for name in HOSTILE] + list(generated(home).values())
    return [(path, validate(path, home)) for path in paths]


def test_every_hostile_file_is_refused_at_a_line_without_a_traceback(
    hostile: list[tuple[Path, Measured]],
) -> None:
    for path, result in hostile:
        assert result.returncode == 2, (path, result)
        assert f"invalid: {path}:" in result.stderr, (path, result)
        where = result.stderr.split(f"invalid: {path}:", 1)[1]
        assert where.split(":", 1)[0].isdigit(), (path, result)  # a line number
        assert "Traceback" not in result.stderr + result.stdout, (path, result)
        assert "0 of 1 scenario file(s) valid" in result.stdout, (path, result)


def test_every_hostile_file_takes_under_a_second_and_100_mb(
    hostile: list[tuple[Path, Measured]],
) -> None:
    slow = [(p.name, round(r.cpu_s, 2)) for p, r in hostile if r.cpu_s >= CPU_BOUND_S]
    big = [(p.name, r.max_rss // 2**20) for p, r in hostile if r.max_rss >= MEMORY_BOUND]
    assert slow == [], "CPU seconds"
    assert big == [], "MiB"

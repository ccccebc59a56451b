"""``chaos validate`` and ``chaos list``: every broken file is named with its line, no traceback.

The broken corpus states its expected line and field on its first line. The CLI loads
with the real fault and invariant registries, where a few files fail earlier than in the
unit tests' reduced registries: those are listed in ``REAL_REGISTRY_FIRST_ERROR``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from e2e_support import ROOT, Chaos, CliResult

from harness.run.catalog import load_all
from harness.scenario.include import is_fragment
from harness.scenario.loader import select_scenarios

pytestmark = pytest.mark.e2e

BROKEN = sorted((ROOT / "tests" / "data" / "scenarios" / "broken").glob("*.yaml"))
EXPECT = re.compile(r"^# expect: (\d+|-)((?::\d+)?) (\S+) \|")
REAL_REGISTRY_FIRST_ERROR: dict[str, tuple[int, str]] = {}
AT_ONCE = 4
"""Validations run side by side: enough to overlap start-ups, not to swamp the machine."""


def expected(path: Path) -> tuple[str, str | None]:
    """``("LINE", field)`` or ``("LINE:COLUMN", field)`` as the first line states it."""
    if path.stem in REAL_REGISTRY_FIRST_ERROR:
        line, field = REAL_REGISTRY_FIRST_ERROR[path.stem]
        return str(line), field
    first = path.read_bytes().split(b"\n", 1)[0].decode("utf-8")
    found = EXPECT.match(first)
    assert found, f"{path.name}: first line must be '# expect: LINE[:COLUMN] FIELD | message'"
    line, column, field = found.groups()
    assert line != "-", f"{path.name}: every broken file has a line to report"
    return line + column, None if field == "-" else field


def test_the_broken_corpus_is_all_there() -> None:
    assert len(BROKEN) >= 76


@pytest.fixture(scope="module")
def validated(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, CliResult]:
    """``chaos validate FILE`` for every broken file, a few at a time (validation is cheap
    but interpreter start-up is not). All ~80 at once put the load of a 2-core machine at
    39 and slowed every timed test beside it, once past a scenario's deadline."""
    runner = Chaos(home=tmp_path_factory.mktemp("validate"))
    results: dict[Path, CliResult] = {}
    for start in range(0, len(BROKEN), AT_ONCE):
        batch = BROKEN[start : start + AT_ONCE]
        running = {path: runner.start("validate", path) for path in batch}
        results.update({path: runner.finish(proc) for path, proc in running.items()})
    assert runner.problems() == []
    return results


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_validate_names_file_line_and_field(validated: dict[Path, CliResult], path: Path) -> None:
    line, field = expected(path)

    result = validated[path]

    assert result.returncode == 2, result
    assert f"{path}:{line}: " in result.stderr, result
    if field is not None:
        assert f"{path}:{line}: {field}" in result.stderr, result
    assert "Traceback" not in result.stderr + result.stdout, result
    assert "0 of 1 scenario file(s) valid" in result.stdout, result


def test_validate_a_folder_reports_every_broken_file(chaos: Chaos) -> None:
    result = chaos.run("validate", BROKEN[0].parent)

    assert result.returncode == 2, result
    assert f"0 of {len(BROKEN)} scenario file(s) valid" in result.stdout, result
    for path in BROKEN:
        assert f"{path}:" in result.stderr, f"{path.name} not reported\n{result}"
    assert "Traceback" not in result.stderr


def test_the_real_scenarios_validate(chaos: Chaos) -> None:
    count = len(
        [
            p
            for p in (ROOT / "scenarios").rglob("*")
            if p.suffix in (".yaml", ".yml") and not is_fragment(p)
        ]
    )

    result = chaos.run("validate", ROOT / "scenarios")

    assert result.returncode == 0, result
    assert f"{count} of {count} scenario file(s) valid" in result.stdout, result
    assert result.stderr == "", result


def test_list_shows_every_scenario_with_its_faults(chaos: Chaos) -> None:
    files = [p for p in sorted((ROOT / "scenarios").rglob("*.yaml")) if not is_fragment(p)]

    result = chaos.run("list", ROOT / "scenarios")

    assert result.returncode == 0, result
    for path in files:
        assert path.stem in result.stdout, f"{path.stem} missing\n{result}"
    row = next(line for line in result.stdout.splitlines() if "backend-sigkill " in line)
    assert "kill" in row
    assert "recovers" in row


def test_list_with_k_selects_by_tag(chaos: Chaos) -> None:
    every = load_all([ROOT / "scenarios"])
    tagged = {s.name for s in select_scenarios(every, "daemon")}
    assert tagged, "the suite has a scenario tagged 'daemon'"
    assert len(tagged) < len(every)

    result = chaos.run("list", ROOT / "scenarios", "-k", "daemon")

    assert result.returncode == 0, result
    listed = {
        s.name for s in every if re.search(rf"^\s*{re.escape(s.name)}\s", result.stdout, re.M)
    }
    assert listed == tagged, result

"""Usage errors: one readable line, exit 2, no traceback, and nothing started or written."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from e2e_support import CHAOS, Chaos, supervisor_scenario

pytestmark = pytest.mark.e2e


@pytest.fixture
def tiny(chaos: Chaos) -> Path:
    return chaos.scenario("tiny.yaml", supervisor_scenario("tiny"))


def assert_usage_error(chaos: Chaos, args: list[str | Path], says: str) -> None:
    result = chaos.run(*args)

    assert result.returncode == 2, result
    assert says in result.stderr, result
    assert "Traceback" not in result.stderr + result.stdout, result
    assert not (chaos.home / "reports").exists(), "a usage error must not write reports"


def test_unknown_command(chaos: Chaos) -> None:
    assert_usage_error(chaos, ["frobnicate"], "No such command 'frobnicate'")


def test_missing_path(chaos: Chaos) -> None:
    missing = chaos.home / "no-such-folder" / "scenario.yaml"
    assert_usage_error(chaos, ["run", missing], f"{missing}: no such file or folder")


def test_validate_missing_path(chaos: Chaos) -> None:
    missing = chaos.home / "nothing.yaml"
    assert_usage_error(chaos, ["validate", missing], f"{missing}: no such file or folder")


@pytest.mark.parametrize("bad", ["novalue", "=1", ""])
def test_bad_var(chaos: Chaos, tiny: Path, bad: str) -> None:
    assert_usage_error(chaos, ["run", tiny, "--var", bad], "--var")


def test_unparsable_k(chaos: Chaos, tiny: Path) -> None:
    assert_usage_error(chaos, ["run", tiny, "-k", "((("], "-k '((('")


def test_k_selecting_nothing(chaos: Chaos, tiny: Path) -> None:
    assert_usage_error(chaos, ["run", tiny, "-k", "no-such-tag"], "selected no scenario")


def test_bad_repeat(chaos: Chaos, tiny: Path) -> None:
    assert_usage_error(chaos, ["run", tiny, "--repeat", "0"], "--repeat")


def test_report_of_a_missing_journal(chaos: Chaos) -> None:
    missing = chaos.home / "journal.json"
    assert_usage_error(chaos, ["report", missing], str(missing))


def test_compare_of_a_file_that_is_not_a_journal(chaos: Chaos, tiny: Path) -> None:
    assert_usage_error(chaos, ["compare", tiny, tiny], f"{tiny}:1: not valid JSON")


def test_compare_bad_threshold(chaos: Chaos, tiny: Path) -> None:
    assert_usage_error(chaos, ["compare", tiny, tiny, "--threshold", "lots"], "--threshold")


def test_a_long_error_stays_on_one_line_in_a_ci_log(chaos: Chaos) -> None:
    """Not a terminal, no COLUMNS (a CI job): stderr is not wrapped at 80 columns."""
    path = chaos.scenario(
        "long.yaml",
        """\
        system: {command: [sleep, "1"]}
        probes:
          status: {http: {url: "http://127.0.0.1:1/x"}, evry: 100ms}
        """,
    )
    env = chaos.env()
    env.pop("COLUMNS")
    result = subprocess.run(
        [CHAOS, "validate", str(path)],
        env=env,
        cwd=chaos.home,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result
    [line] = [x for x in result.stderr.splitlines() if x.strip()]
    assert line.startswith(f"invalid: {path}:3: probes.status"), line
    assert len(line) > 100

"""``expect: fail`` through the plugin: strict xfail, as ``chaos run`` reads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from .tiny import INI, scenario_text

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.integration

EXPECT = "expect: fail\nreason: the tiny supervisor does not restart in this mode\n"


def _write(pytester: pytest.Pytester, name: str, mode: str) -> None:
    path = pytester.path / "scenarios" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(scenario_text(pytester, name, mode=mode) + EXPECT, encoding="utf-8")


def test_an_expected_failure_is_xfailed_and_a_pass_is_a_strict_xpass(
    pytester: pytest.Pytester, run_tmp: Path
) -> None:
    pytester.makeini(INI)
    _write(pytester, "known-weakness", "no-restart")
    _write(pytester, "weakness-gone", "restart")

    result = pytester.runpytest_subprocess("scenarios", "-rfxX")

    result.assert_outcomes(xfailed=1, failed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "XFAIL scenarios/known-weakness.yaml::known-weakness[[]trial-0[]] - the tiny"
            " supervisor does not restart in this mode",
        ]
    )
    result.stdout.fnmatch_lines(
        ["FAILED scenarios/weakness-gone.yaml::weakness-gone[[]trial-0[]] - [[]XPASS(strict)[]]*"]
    )

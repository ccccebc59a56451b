"""What the plugin collects, and how: names, markers, -k, repeats, errors, and what it leaves
alone. Collection only (``--collect-only``): no system is started here."""

from __future__ import annotations

import pytest

from .tiny import INI, project, scenario_text, write_scenario

pytest_plugins = ["pytester"]


def collected(result: pytest.RunResult) -> list[str]:
    return [line for line in result.outlines if "::" in line]


def test_one_item_per_trial_named_by_scenario(pytester: pytest.Pytester) -> None:
    project(pytester)

    result = pytester.runpytest_subprocess("scenarios", "--collect-only", "-q")

    assert result.ret == pytest.ExitCode.OK
    assert collected(result) == [
        "scenarios/tiny-broken.yaml::tiny-broken[trial-0]",
        "scenarios/tiny-restart.yaml::tiny-restart[trial-0]",
    ]


def test_chaos_repeat_gives_one_item_per_trial(pytester: pytest.Pytester) -> None:
    project(pytester)

    result = pytester.runpytest_subprocess(
        "scenarios/tiny-restart.yaml", "--chaos-repeat", "2", "--collect-only", "-q"
    )

    assert collected(result) == [
        "scenarios/tiny-restart.yaml::tiny-restart[trial-0]",
        "scenarios/tiny-restart.yaml::tiny-restart[trial-1]",
    ]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("bug", ["tiny-broken"]),
        ("not bug", ["tiny-restart"]),
        ("tiny", ["tiny-broken", "tiny-restart"]),
    ],
)
def test_tags_are_markers_under_strict_markers(
    pytester: pytest.Pytester, expression: str, expected: list[str]
) -> None:
    project(pytester)  # the ini sets --strict-markers: tags must be registered

    result = pytester.runpytest_subprocess("scenarios", "-m", expression, "--collect-only", "-q")

    assert result.ret == pytest.ExitCode.OK
    assert [line.split("::")[1].split("[")[0] for line in collected(result)] == expected


def test_k_selects_by_scenario_name(pytester: pytest.Pytester) -> None:
    project(pytester)

    result = pytester.runpytest_subprocess("scenarios", "-k", "broken", "--collect-only", "-q")

    assert collected(result) == ["scenarios/tiny-broken.yaml::tiny-broken[trial-0]"]


def test_other_yaml_is_left_alone(pytester: pytest.Pytester) -> None:
    project(pytester)
    pytester.makefile(".yaml", **{"scenarios/settings": "retries: 3\nsystem_name: x\n"})
    pytester.makefile(".yml", **{"scenarios/list": "- a\n- b\n"})

    result = pytester.runpytest_subprocess("scenarios", "--collect-only", "-q")

    assert result.ret == pytest.ExitCode.OK
    assert len(collected(result)) == 2
    assert "settings" not in result.stdout.str()


def test_invalid_scenario_is_a_collection_error_at_its_line(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    text = scenario_text(pytester, "bad").replace("duration: 1s", "duraton: 1s")
    bad = pytester.path / "scenarios" / "bad.yaml"
    bad.parent.mkdir()
    bad.write_text(text, encoding="utf-8")
    line = text.splitlines().index("duraton: 1s") + 1

    result = pytester.runpytest_subprocess("scenarios")

    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*ERROR collecting scenarios/bad.yaml*", f"*invalid scenario: scenarios/bad.yaml:{line}:*"]
    )
    assert "Traceback" not in result.stdout.str()


def test_only_named_paths_and_chaos_paths_are_searched(pytester: pytest.Pytester) -> None:
    """A project's own test data (YAML under its testpaths) is not a scenario suite."""
    pytester.makeini(INI + "testpaths = tests\n")
    pytester.makepyfile(**{"tests/test_own": "def test_own():\n    pass\n"})
    write_scenario(pytester, "fixture-data", folder="tests/data")

    own = ["tests/test_own.py::test_own"]
    for args in ([], ["tests"], ["."]):
        result = pytester.runpytest_subprocess(*args, "--collect-only", "-q")
        assert collected(result) == own, args

    named = pytester.runpytest_subprocess("tests/data", "--collect-only", "-q")
    assert collected(named) == ["tests/data/fixture-data.yaml::fixture-data[trial-0]"]

    pytester.makeini(INI + "testpaths = tests\nchaos_paths = tests/data\n")
    configured = pytester.runpytest_subprocess("--collect-only", "-q")
    assert sorted(collected(configured)) == sorted(
        [*own, "tests/data/fixture-data.yaml::fixture-data[trial-0]"]
    )


def test_bad_chaos_var_is_a_usage_error(pytester: pytest.Pytester) -> None:
    project(pytester)

    result = pytester.runpytest_subprocess("scenarios", "--chaos-var", "novalue")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--chaos-var expects KEY=VALUE, got 'novalue'*"])

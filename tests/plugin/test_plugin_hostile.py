"""The plugin with what a user's folder really holds: a scenario for a program this machine
lacks, hostile YAML, markup in what a failure shows, and the project's own ``scenarios/``.

pytest itself must never break: a skip is a normal skip placed at the scenario's
``requires`` line, a hostile file is a collection error at its line (and does not hang the
collection), a failure's text shows markup and control characters as written.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .tiny import INI, scenario_text

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]


def test_a_missing_requirement_is_a_normal_skip_at_the_line_of_requires(
    pytester: pytest.Pytester, run_tmp: Path
) -> None:
    pytester.makeini(INI)
    text = scenario_text(pytester, "needs-tool").replace(
        "timeout: 40s", "timeout: 40s\nrequires: [python3, chaos-no-such-tool]"
    )
    path = pytester.path / "scenarios" / "needs-tool.yaml"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    line = text.splitlines().index("requires: [python3, chaos-no-such-tool]") + 1

    result = pytester.runpytest_subprocess("scenarios", "-rs")

    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(
        [
            f"SKIPPED [[]1[]] scenarios/needs-tool.yaml:{line}: requires chaos-no-such-tool"
            " (not found on PATH)"
        ]
    )
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


def test_hostile_yaml_is_a_collection_error_at_its_line_without_hanging(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini(INI)
    laughs = "".join(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]\n" for i in range(1, 9))
    bomb = "system: {command: [sleep, '1']}\nl0: &l0 [lol, lol, lol, lol, lol, lol, lol]\n"
    pytester.makefile(".yaml", **{"scenarios/bomb": bomb + laughs})
    pytester.makefile(".yaml", **{"scenarios/deep": "system: " + "[" * 400 + "]" * 400})

    started = time.monotonic()
    result = pytester.runpytest_subprocess("scenarios")

    assert time.monotonic() - started < 60  # unbounded, the bomb alone takes minutes
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "*invalid scenario: scenarios/bomb.yaml:6: the file expands to more than 10000 values*",
            "*invalid scenario: scenarios/deep.yaml:1: lists and mappings nested more than 50*",
        ],
        consecutive=False,
    )
    output = result.stdout.str()
    assert "Traceback" not in output
    assert "RecursionError" not in output


def test_the_failure_text_shows_markup_and_control_characters_as_written(
    pytester: pytest.Pytester, run_tmp: Path
) -> None:
    pytester.makeini(INI)
    text = scenario_text(pytester, "marked", mode="no-restart").replace(
        "  - alive: {role: supervisor}",
        "  - log: {absent: 'child'}\n  - alive: {role: supervisor}",
    )
    text = text.replace("child: {cmdline:", '"[/red]:100:\\e[31m": {cmdline:').replace(
        "role: child", 'role: "[/red]:100:\\e[31m"'
    )
    path = pytester.path / "scenarios" / "marked.yaml"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")

    result = pytester.runpytest_subprocess("scenarios", "-rf")

    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert "recovers (fail): [/red]:100:\\x1b[31m not recovered" in output
    assert "\x1b" not in output
    assert "INTERNALERROR" not in output


def without_supervisord(path: str, shadows: Path) -> str:
    """``path`` as on a machine without supervisord, whatever this one has: a directory that
    holds it is replaced by a shadow of symlinks to everything else in it (the venv's bin
    also holds uvicorn, whose example must still run)."""
    dirs = []
    for n, entry in enumerate(path.split(os.pathsep)):
        folder = Path(entry)
        if not (folder / "supervisord").exists():
            dirs.append(entry)
            continue
        shadow = shadows / str(n)
        shadow.mkdir(parents=True)
        for item in folder.iterdir():
            if not item.name.startswith("supervisor"):
                (shadow / item.name).symlink_to(item)
        dirs.append(str(shadow))
    return os.pathsep.join(dirs)


@pytest.mark.slow
def test_pytest_on_the_projects_own_scenarios_as_a_user_runs_it(tmp_path: Path) -> None:
    """``pytest scenarios/`` in a checkout: the supervisord example needs supervisord, which
    is not installed here; it is skipped with its reason and the run exits 0."""
    env = dict(os.environ, TMPDIR=str(tmp_path))
    env["PATH"] = without_supervisord(env.get("PATH", ""), tmp_path / "path")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "scenarios/", "-rs", "-p", "no:cacheprovider", "-q"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "INTERNALERROR" not in result.stdout + result.stderr
    line = (ROOT / "scenarios" / "examples" / "supervisord.yaml").read_text().splitlines()
    requires = next(i for i, text in enumerate(line, 1) if text.startswith("requires:"))
    assert (
        f"SKIPPED [1] scenarios/examples/supervisord.yaml:{requires}: requires supervisord"
        " (not found on PATH)"
    ) in result.stdout
    assert "requires uvicorn" not in result.stdout  # only supervisord is missing
    assert list(tmp_path.glob("chaos-*")) == []

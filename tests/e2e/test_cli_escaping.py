"""Markup in every printed path of the CLI is printed as written, and never changes an exit code.

A scenario whose name, path, roles and system output are full of rich markup (an unmatched
``[/red]``, a ``[link=...]``), an emoji code hiding a line number (``:100:``), HTML and a
terminal colour code goes through ``validate``, ``list``, a failing and a passing ``run``
(into ``--out 'o[/x]'``), ``report`` and ``compare``; every command keeps its exit code,
prints the text as written, and the reports it writes show it escaped for their readers.
(``validate`` with markup in keys and an error on line 100: the broken corpus, in
``test_cli_validate``; the pytest failure text: ``tests/plugin``.)
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from e2e_support import Chaos, CliResult

pytestmark = pytest.mark.e2e

MARKUP = "[/red]mark[link=https://evil.example]x[/link]"
NAME = "[bold red]mark[link=mailto:x@evil.example]x:100:"
"""A scenario name has no ``/``, so no closing tag: an opening one would still vanish."""

SCENARIO = """\
name: "{name}"
timeout: 20s
system:
  command: [sh, -c, 'printf "%s\\033[31m\\n" "{line}"; exec sleep 30']
  ready: {{log: 'mark', timeout: 10s}}
  stop: {{grace: 2s}}
roles:
  "{role}": {{root: true}}
duration: 300ms
invariants:
  - alive: {{role: "{role}"}}
  - log: {{{which}: '\\[/red\\]'}}
"""


def scenario(chaos: Chaos, name: str, *, fails: bool) -> Path:
    folder = chaos.home / "sc[/x]:100:"  # a folder "sc[" holding "x]:100:"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"mark{'-f' if fails else ''}.yaml"
    path.write_text(
        SCENARIO.format(
            name=name,
            line=f"{MARKUP} out:100: <b>",
            role=f"[bold]{MARKUP}",
            which="absent" if fails else "present",
        ),
        encoding="utf-8",
    )
    return path


def assert_as_written(result: CliResult, code: int) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == code, result
    assert "Traceback" not in output, result
    assert "MarkupError" not in output, result
    assert "💯" not in output, result
    assert "\x1b" not in output, result


def test_every_command_prints_markup_as_written(chaos: Chaos) -> None:
    failing = scenario(chaos, NAME + "f", fails=True)
    passing = scenario(chaos, NAME, fails=False)

    validated = chaos.run("validate", failing.parent)
    assert_as_written(validated, 0)
    assert "2 of 2 scenario file(s) valid" in validated.stdout

    listed = chaos.run("list", failing.parent)
    assert_as_written(listed, 0)
    assert NAME in listed.stdout

    failed = chaos.run("run", failing, "--out", "f[/x]")
    assert_as_written(failed, 1)  # an invariant failed: not a crash, not exit 3
    assert f"{NAME}f" in failed.stdout
    assert "line(s) matched /\\[/red\\]/" in failed.stdout
    assert f"{MARKUP} out:100: <b>\\x1b[31m" in failed.stdout  # the system's own line
    assert f"{Path('f[/x]') / 'journal.json'}" in failed.stdout.split("reports: ")[1]

    passed = chaos.run("run", passing, "--out", "o[/x]")
    assert_as_written(passed, 0)  # CI must not read a crash at the end as a failure
    out = chaos.home / "o[/x]"
    assert f"{Path('o[/x]') / 'journal.json'}" in passed.stdout.split("reports: ")[1]

    reported = chaos.run(
        "report",
        chaos.home / "f[/x]" / "journal.json",
        "--md",
        "--html",
        "--junit",
        "--out",
        "r[/y]:100:",
    )
    assert_as_written(reported, 1)  # as the run it re-renders
    assert f"wrote {Path('r[/y]:100:') / 'summary.md'}" in reported.stdout
    assert f"{NAME}f" in reported.stdout

    compared = chaos.run("compare", chaos.home / "f[/x]" / "journal.json", out / "journal.json")
    assert_as_written(compared, 0)
    assert NAME in compared.stdout

    written = chaos.home / "r[/y]:100:"
    markdown = (written / "summary.md").read_text(encoding="utf-8")
    assert "\\[bold red\\]mark\\[link=mailto:x@evil.example\\]x:100:" in markdown
    page = (written / "report.html").read_text(encoding="utf-8")
    assert "&lt;b&gt;" in page
    assert f"{MARKUP} out:100: <b>" not in page
    root = ET.parse(written / "junit.xml").getroot()
    assert [case.get("name") for case in root.iter("testcase")] == [f"{NAME}f[trial-0]"]

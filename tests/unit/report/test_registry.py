"""The reporter registry: the four built-ins, their names and files, lazy renderers, and an
import cheap enough for a pytest plugin that every pytest run loads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.report.html import to_html
from harness.report.junit import to_junit
from harness.report.markdown import to_markdown
from harness.report.registry import (
    JOURNAL,
    REPORTERS,
    Reporter,
    default_targets,
    lazy,
    register,
    reporters,
)
from harness.results import journal

from .fixtures import realistic_run


def test_the_built_in_reporters_and_their_files() -> None:
    table = {r.name: (r.flag, r.filename) for r in reporters()}

    assert table == {
        "html": ("--html", "report.html"),
        "journal": ("--json", "journal.json"),
        "junit": ("--junit", "junit.xml"),
        "markdown": ("--md", "summary.md"),
    }
    assert JOURNAL in REPORTERS
    assert [r.option for r in reporters()] == ["html", "json", "junit", "md"]


def test_default_targets_put_every_file_in_the_folder(tmp_path: Path) -> None:
    assert default_targets(tmp_path) == {
        "html": tmp_path / "report.html",
        "journal": tmp_path / "journal.json",
        "junit": tmp_path / "junit.xml",
        "markdown": tmp_path / "summary.md",
    }


def test_each_reporter_renders_what_its_module_renders() -> None:
    run = realistic_run()

    assert REPORTERS.get("junit").render(run) == to_junit(run)
    assert REPORTERS.get("html").render(run) == to_html(run)
    assert REPORTERS.get("markdown").render(run) == to_markdown(run)


def test_the_journal_reporter_writes_what_the_run_writes(tmp_path: Path) -> None:
    """A run rewrites its journal after each trial (``results.journal.write``); the reporter's
    file at the end must be the same bytes, and read back as the same run."""
    run = realistic_run()
    journal.write(run, tmp_path / "journal.json")

    text = REPORTERS.get(JOURNAL).render(run)

    assert text == (tmp_path / "journal.json").read_text(encoding="utf-8")
    (tmp_path / "again.json").write_text(text, encoding="utf-8")
    assert journal.read(tmp_path / "again.json") == journal.read(tmp_path / "journal.json")


def test_a_name_registered_twice_is_refused() -> None:
    twin = Reporter("junit", "--junit2", "other.xml", "a second JUnit", lambda run: "")

    with pytest.raises(ValueError, match="reporter 'junit' registered twice"):
        register(twin)
    assert REPORTERS.get("junit").flag == "--junit"


def test_an_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match="unknown reporter 'pdf'; known: html, journal, junit"):
        REPORTERS.get("pdf")


@pytest.mark.parametrize(
    ("flag", "filename", "says"),
    [
        ("json", "x.json", "not like --name"),
        ("--JSON", "x.json", "not like --name"),
        ("--json file", "x.json", "not like --name"),
        ("--json", "out/x.json", "not a bare file name"),
    ],
)
def test_a_malformed_reporter_is_refused(flag: str, filename: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        Reporter("x", flag, filename, "x", lambda run: "")


def test_lazy_imports_its_function_on_the_first_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "chaos_lazy_probe.py").write_text(
        "def render(run):\n    return f'{len(run.scenarios)} scenarios'\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(tmp_path)
    render = lazy("chaos_lazy_probe:render")
    assert "chaos_lazy_probe" not in sys.modules, "made, not imported yet"
    try:
        assert render(realistic_run()) == "3 scenarios"
        assert "chaos_lazy_probe" in sys.modules
    finally:
        sys.modules.pop("chaos_lazy_probe", None)
    assert render.__name__ == "lazy(chaos_lazy_probe:render)"


def test_lazy_names_a_missing_function_when_it_renders() -> None:
    render = lazy("harness.report.junit:to_pdf")

    with pytest.raises(AttributeError, match="to_pdf"):
        render(realistic_run())


@pytest.mark.parametrize("target", ["harness.report.junit", "harness.report.junit:", ":to_junit"])
def test_lazy_refuses_a_target_that_is_not_module_colon_function(target: str) -> None:
    with pytest.raises(ValueError, match=r"expected 'package\.module:function'"):
        lazy(target)


def test_importing_the_registry_imports_no_renderer() -> None:
    """The pytest plugin imports the registry in every pytest run: only names, no renderer
    (nor pydantic, nor the results model)."""
    code = (
        "import sys, harness.report.registry as r; r.reporters(); "
        "print(' '.join(sorted(m for m in sys.modules if m.startswith(('harness', 'pydantic')))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()

    assert loaded == [
        "harness",
        "harness.report",
        "harness.report.registry",
        "harness.spec",
        "harness.spec.registry",
        "harness.spec.version",
    ]

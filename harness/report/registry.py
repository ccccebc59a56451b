"""The reporters a run can write, by name: the one list the CLI, the plugin and the writers read.

A reporter turns a ``RunResult`` into the text of one file. The CLI makes one ``--FLAG
[FILE]`` option of ``run`` and ``report`` per reporter, the pytest plugin one ``--chaos-FLAG
FILE`` option, and ``writers.write_reports`` writes any of them by name. Adding a reporter
is one module with a ``RunResult -> str`` function and one ``register`` line below.

The pytest plugin reads this module to declare its options in every pytest run where chaos
is installed, so it imports no renderer (the HTML one pulls in the SVG charts): a built-in
reporter names its function as ``"module:function"`` and ``lazy`` imports it on the first
render.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harness.spec.registry import Registry

if TYPE_CHECKING:
    from harness.results.model import RunResult

Render = Callable[["RunResult"], str]
"""A reporter's whole contract: the run in, the file's text out."""

_FLAG = re.compile(r"--[a-z][a-z0-9]*(?:-[a-z0-9]+)*")


@dataclass(frozen=True)
class Reporter:
    """One kind of report file."""

    name: str
    """Its key in ``REPORTERS`` and in ``write_reports``: ``journal``, ``junit``..."""
    flag: str
    """Its CLI option, ``--json``; the plugin's is ``--chaos-json``."""
    filename: str
    """The file a bare flag (or ``--out``, ``--chaos-out``) writes in the output folder."""
    help: str
    """What the file is, in a few words, for ``--help``: ``the JSON journal``."""
    render: Render

    def __post_init__(self) -> None:
        if not _FLAG.fullmatch(self.flag):
            raise ValueError(f"reporter {self.name!r}: flag {self.flag!r} is not like --name")
        if Path(self.filename).name != self.filename:
            raise ValueError(f"reporter {self.name!r}: {self.filename!r} is not a bare file name")

    @property
    def option(self) -> str:
        """The flag without its dashes: ``json`` (the plugin's ``--chaos-json``)."""
        return self.flag[2:]


def lazy(target: str) -> Render:
    """A renderer that imports ``"package.module:function"`` when it is first called."""
    module, sep, function = target.partition(":")
    if not sep or not module or not function.isidentifier():
        raise ValueError(f"expected 'package.module:function', got {target!r}")

    def render(run: RunResult) -> str:
        renderer: Render = getattr(importlib.import_module(module), function)
        return renderer(run)

    render.__qualname__ = render.__name__ = f"lazy({target})"
    return render


REPORTERS: Registry[Reporter] = Registry("reporter")
JOURNAL = "journal"
"""The reporter ``chaos run`` also rewrites after every trial (a killed run keeps it)."""


def register(reporter: Reporter) -> Reporter:
    """Add ``reporter`` under its name (a name registered twice is refused)."""
    return REPORTERS.register(reporter.name, reporter)


def reporters() -> list[Reporter]:
    """Every registered reporter, by name (the order of ``--help`` and of the files)."""
    return [REPORTERS.get(name) for name in REPORTERS]


def default_targets(folder: Path) -> dict[str, Path]:
    """Reporter name → its default file inside ``folder``, for every reporter."""
    return {r.name: folder / r.filename for r in reporters()}


# --------------------------------------------------------------------------- the built-ins

register(
    Reporter(
        JOURNAL,
        "--json",
        "journal.json",
        "the JSON journal",
        lazy("harness.results.journal:to_text"),
    )
)
register(
    Reporter("junit", "--junit", "junit.xml", "JUnit XML", lazy("harness.report.junit:to_junit"))
)
register(
    Reporter(
        "html", "--html", "report.html", "the HTML report", lazy("harness.report.html:to_html")
    )
)
register(
    Reporter(
        "markdown",
        "--md",
        "summary.md",
        "the Markdown summary",
        lazy("harness.report.markdown:to_markdown"),
    )
)

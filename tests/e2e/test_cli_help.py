"""``--help`` reads like a person wrote it: metavars, not Python types; an example each."""

from __future__ import annotations

from dataclasses import replace

import pytest
from e2e_support import Chaos

from harness.cli.app import COMMAND_ORDER, reflowed

pytestmark = pytest.mark.e2e

COMMANDS = tuple(c for c in COMMAND_ORDER if c != "testbed")  # it hands --help to the testbed


@pytest.mark.parametrize("command", COMMANDS)
def test_help_names_values_by_metavar_and_ends_with_examples(chaos: Chaos, command: str) -> None:
    result = chaos.run(command, "--help")

    assert result.returncode == 0, result
    text = result.stdout
    for raw in ("<list[", "<bool>", "<path>", "<str>", "<int", "{paths}", "{base}"):
        assert raw not in text, (raw, result)
    assert "Examples:" in text, result
    examples = text[text.index("Examples:") :].splitlines()[1:]
    assert any(line.strip().startswith(f"chaos {command}") for line in examples), result


def test_usage_lines_show_the_arguments_as_written(chaos: Chaos) -> None:
    usage = {c: chaos.run(c, "--help").stdout for c in ("run", "report", "compare", "trend")}
    assert "Usage: chaos run [OPTIONS] PATH..." in usage["run"]
    assert "Usage: chaos report [OPTIONS] JOURNAL" in usage["report"]
    assert "Usage: chaos compare [OPTIONS] BASE HEAD" in usage["compare"]
    assert "Usage: chaos trend [OPTIONS] JOURNAL..." in usage["trend"]
    # -k has a long name beside it, so it sits in the short-option column like -q and -h
    assert any("--select" in line and " -k " in line for line in usage["run"].splitlines())


def test_the_top_level_help_has_examples_and_no_types(chaos: Chaos) -> None:
    result = chaos.run("--help")

    assert result.returncode == 0, result
    assert "<bool>" not in result.stdout
    assert "chaos COMMAND --help" in result.stdout


def test_a_docstring_body_is_reflowed_but_lists_and_verbatim_blocks_keep_their_lines() -> None:
    doc = """First line.

    A body wrapped in the source
    mid-sentence.

    - an item
    - another

    \b
    kept
    as is
    """
    assert reflowed(doc) == (
        "First line.\n\nA body wrapped in the source mid-sentence.\n\n"
        "- an item\n- another\n\n\b\nkept\nas is"
    )


def test_help_wraps_at_the_terminal_not_at_the_source(chaos: Chaos) -> None:
    """On 80 columns, init's body broke after "ports it" because its docstring did."""
    narrow = replace(chaos, extra_env={**chaos.extra_env, "COLUMNS": "80"})
    result = narrow.run("init", "--help")
    assert result.returncode == 0, result
    assert any("ports it saw." in line for line in result.stdout.splitlines()), result

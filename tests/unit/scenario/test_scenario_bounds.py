"""The loader's bounds: each refuses with a line and a sentence naming the limit, and what a
real scenario writes (aliases, merge keys, long scripts) stays well inside them.

The broken corpus holds one file per class of hostile input; these tests cover the bounds
that need a generated file (too big to commit) and the edges of each bound.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from harness.errors import ScenarioError
from harness.scenario.bounded import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_INT_DIGITS,
    MAX_SCALAR,
    MAX_TEXT,
    MAX_VALUES,
)
from harness.scenario.loader import MAX_REPORTED, load_scenario, problems
from harness.spec.regex import (
    MAX_LENGTH,
    MAX_NESTING,
    as_pid,
    check_regex,
    group_nesting,
    names_pid,
)

SYSTEM = 'system:\n  command: [sleep, "1"]\n'


def only_error(path: Path, registries: dict[str, Any]) -> ScenarioError:
    found = problems(path, **registries)
    assert len(found) == 1, found
    return found[0]


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "s.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- sizes


def test_a_file_over_the_size_limit_is_refused_at_the_line_it_passes_it(
    tmp_path: Path, registries: dict[str, Any]
) -> None:
    line = "# " + "x" * 98 + "\n"
    path = write(tmp_path, SYSTEM + line * (MAX_FILE_BYTES // len(line) + 1))

    error = only_error(path, registries)

    assert f"larger than {MAX_FILE_BYTES // 1024} KiB" in error.message
    assert error.line == path.read_bytes()[:MAX_FILE_BYTES].count(b"\n") + 1


def test_a_file_just_under_the_size_limit_loads(tmp_path: Path, registries: dict[str, Any]) -> None:
    path = write(tmp_path, SYSTEM + "#" * (MAX_FILE_BYTES - len(SYSTEM) - 1) + "\n")
    assert path.stat().st_size == MAX_FILE_BYTES
    assert problems(path, **registries) == []


def test_a_scalar_over_the_limit_is_refused_and_one_at_it_is_not(
    tmp_path: Path, registries: dict[str, Any]
) -> None:
    ok = write(tmp_path, SYSTEM + f"description: {'x' * MAX_SCALAR}\n")
    assert problems(ok, **registries) == []
    path = write(tmp_path, SYSTEM + f"description: {'x' * (MAX_SCALAR + 1)}\n")

    error = only_error(path, registries)

    assert error.line == 3
    assert f"the limit is {MAX_SCALAR} characters per value" in error.message


def test_values_without_aliases_count_too(tmp_path: Path, registries: dict[str, Any]) -> None:
    items = ", ".join(["1"] * MAX_VALUES)
    path = write(tmp_path, SYSTEM + f"tags: [{items}]\n")

    error = only_error(path, registries)

    assert error.line == 3
    assert f"more than {MAX_VALUES} values" in error.message


def test_aliases_count_as_many_as_they_stand_for(
    tmp_path: Path, registries: dict[str, Any]
) -> None:
    """Nine aliases of a 1000-value list: 9001 values, inside the budget; ten are not."""
    items = ", ".join(["a"] * 999)
    head = f"x-list: &l [{items}]\n"
    inside = write(tmp_path, head + "x-nine: [" + ", ".join(["*l"] * 8) + "]\n" + SYSTEM)
    found = problems(inside, **registries)
    assert [e.field for e in found] == ["x-list", "x-nine"]  # unknown fields, nothing more
    outside = write(tmp_path, head + "x-ten: [" + ", ".join(["*l"] * 10) + "]\n" + SYSTEM)
    assert f"more than {MAX_VALUES} values" in only_error(outside, registries).message


def test_text_expanded_by_aliases_is_bounded(tmp_path: Path, registries: dict[str, Any]) -> None:
    big = "y" * MAX_SCALAR
    uses = MAX_TEXT // MAX_SCALAR + 1
    path = write(
        tmp_path,
        f"x-big: &b {big}\nx-many: [" + ", ".join(["*b"] * uses) + "]\n" + SYSTEM,
    )

    error = only_error(path, registries)

    assert error.line == 2
    assert f"more than {MAX_TEXT} characters of text" in error.message


def test_nesting_at_the_limit_loads_and_one_deeper_is_refused(
    tmp_path: Path, registries: dict[str, Any]
) -> None:
    # The document is one level, the list-of-lists the rest: ``depth`` levels in all.
    def nested(depth: int) -> str:
        inner = depth - 1
        return SYSTEM + "x-deep: " + "[" * inner + "]" * inner + "\n"

    found = problems(write(tmp_path, nested(MAX_DEPTH)), **registries)
    assert [e.field for e in found] == ["x-deep"]
    error = only_error(write(tmp_path, nested(MAX_DEPTH + 1)), registries)
    assert f"nested more than {MAX_DEPTH} deep" in error.message
    assert error.line == 3


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ("9" * MAX_INT_DIGITS, False),
        ("9" * (MAX_INT_DIGITS + 1), True),
        ("-" + "9" * (MAX_INT_DIGITS + 1), True),
        ("0x" + "f" * 17, True),  # 20 hex digits are fine; 17 of them exceed 20 decimal digits
        ("0b" + "1" * 100, True),
        ("1_000_000", False),
        ("1:30:00", False),  # YAML 1.1 sexagesimal: 5400
    ],
)
def test_integer_size(tmp_path: Path, registries: dict[str, Any], text: str, refused: bool) -> None:
    path = write(tmp_path, SYSTEM + f"vars: {{n: {text}}}\n")
    found = problems(path, **registries)
    if refused:
        assert len(found) == 1
        assert found[0].line == 3
        assert f"{MAX_INT_DIGITS} digits" in found[0].message
    else:
        assert found == []


# --------------------------------------------------------------------------- types


def test_dates_stay_text_and_merge_keys_still_work(
    tmp_path: Path, registries: dict[str, Any]
) -> None:
    path = write(
        tmp_path,
        "description: 2024-13-45\n"
        "vars: &defaults {when: 2024-01-01}\n"
        "system:\n"
        "  command: [sleep, '{when}']\n"
        "  env: {<<: *defaults, MODE: fast, when: later}\n",
    )
    scenario = load_scenario(path, **registries)
    assert scenario.description == "2024-13-45"
    assert scenario.system.env == {"when": "later", "MODE": "fast"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("!!set {a, b}", "the tag 'tag:yaml.org,2002:set' is not supported"),
        ("!!timestamp 2024-01-01", "the tag 'tag:yaml.org,2002:timestamp' is not supported"),
        ("!local x", "the tag '!local' is not supported"),
        ("!!float abc", "'abc' is not a number"),
    ],
)
def test_only_plain_yaml_types(
    tmp_path: Path, registries: dict[str, Any], value: str, message: str
) -> None:
    error = only_error(write(tmp_path, SYSTEM + f"description: {value}\n"), registries)
    assert error.line == 3
    assert message in error.message


# --------------------------------------------------------------------------- characters


@pytest.mark.parametrize(
    ("data", "line", "column", "message"),
    [
        (b"a: 1\nb: \xff\n", 2, 4, "the byte 0xff"),
        (b"a: 1\nb: \xc3\n", 2, 4, "the byte 0xc3"),  # a character cut short
        (b"\xef\xbb\xbfa: \x00\n", 1, 4, "a NUL character (U+0000)"),  # BOM is no column
        (b"a: 1\n\tb: \x07\n", 2, 5, "the character U+0007"),
        ('a: "\ufffe"\n'.encode(), 1, 5, "the character U+FFFE"),
    ],
)
def test_a_bad_character_is_placed_at_its_line_and_column(
    tmp_path: Path,
    registries: dict[str, Any],
    data: bytes,
    line: int,
    column: int,
    message: str,
) -> None:
    error = only_error(write(tmp_path, data), registries)
    assert (error.line, error.column) == (line, column)
    assert message in error.message
    assert str(error).startswith(f"{tmp_path / 's.yaml'}:{line}:{column}: ")


def test_an_escaped_control_character_is_a_value_like_any_other(
    tmp_path: Path, registries: dict[str, Any]
) -> None:
    path = write(tmp_path, SYSTEM + 'description: "red \\e[31m, bell \\a"\n')
    assert load_scenario(path, **registries).description == "red \x1b[31m, bell \x07"


# --------------------------------------------------------------------------- positions


def test_an_error_in_a_folded_block_is_on_its_own_line(
    tmp_path: Path, registries: dict[str, Any]
) -> None:
    path = write(
        tmp_path,
        "system:\n  command:\n    - sh\n    - >\n      echo one\n      echo {two\n",
    )
    error = only_error(path, registries)
    assert error.line == 6
    assert error.field == "system.command[1]"


def test_a_bad_regex_in_a_literal_block_is_on_the_line_of_its_position(
    tmp_path: Path, registries: dict[str, Any]
) -> None:
    path = write(
        tmp_path,
        SYSTEM + "roles:\n  backend:\n    cmdline: |-\n      backend\n      (unclosed\n",
    )
    error = only_error(path, registries)
    assert error.line == 7
    assert "missing ), unterminated subpattern" in error.message


# --------------------------------------------------------------------------- regexes


@pytest.mark.parametrize(
    ("pattern", "depth"),
    [
        ("((a)(b))", 2),
        (r"\(\(\(", 0),
        ("[(]", 0),
        ("[]((]", 0),
        ("[^]((](x)", 1),
        (r"[\]((](x)", 1),
        ("(?:(?P<n>x)|(?=y))", 2),
    ],
)
def test_group_nesting_counts_only_groups(pattern: str, depth: int) -> None:
    assert group_nesting(pattern)[0] == depth
    re.compile(pattern)


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("(" * (MAX_NESTING + 1) + ")" * (MAX_NESTING + 1), f"the limit is {MAX_NESTING}"),
        ("a" * (MAX_LENGTH + 1), f"the limit is {MAX_LENGTH}"),
        ("a{4294967296}", "not a usable regular expression"),
        ("(", "not a valid regular expression"),
        ("[[:alpha:]]", "a regular expression Python warns about (Possible nested set"),
    ],
)
def test_a_regex_beyond_the_limits_is_a_readable_error(pattern: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        check_regex(pattern)


def test_a_regex_at_the_limits_is_fine() -> None:
    nested = "(" * MAX_NESTING + "a" + ")" * MAX_NESTING
    assert check_regex(nested) == nested
    assert check_regex("a" * MAX_LENGTH) == "a" * MAX_LENGTH


# --------------------------------------------------------------------------- many problems


def test_thousands_of_problems_are_answered_quickly_and_the_first_hundred_listed(
    tmp_path: Path, registries: dict[str, Any]
) -> None:
    """3000 vars and 3000 undefined names: each message once listed every known name and
    compared each unknown one with all of them (48 s and 370 MB before)."""
    count = 3000
    declared = "".join(f"  v{i}: x\n" for i in range(count))
    used = ", ".join(f"'{{u{i}}}'" for i in range(count))
    path = write(tmp_path, f"vars:\n{declared}system:\n  command: [sleep, {used}]\n")

    started = time.process_time()  # CPU time: other processes on the machine do not count
    found = problems(path, **registries)

    assert time.process_time() - started < 5.0  # was 48 s; 0.3 s on a quiet machine
    assert len(found) == MAX_REPORTED + 1
    assert found[0].message.endswith(f"and {2 * count + 6 - 20} more)")  # listed, then counted
    assert found[-1].message == (
        f"{count - MAX_REPORTED} more problems from this line on are not listed "
        f"(the first {MAX_REPORTED} are)"
    )


def test_many_valid_templates_resolve_quickly(tmp_path: Path, registries: dict[str, Any]) -> None:
    count = 3000
    declared = "".join(f"  v{i}: x\n" for i in range(count))
    used = ", ".join(f"'{{v{i}}}'" for i in range(count))
    path = write(tmp_path, f"vars:\n{declared}system:\n  command: [sleep, {used}]\n")

    started = time.process_time()  # CPU time: other processes on the machine do not count
    assert problems(path, **registries) == []
    assert time.process_time() - started < 5.0


_WITHOUT_LIBYAML = """
import sys
sys.modules["yaml._yaml"] = None  # as PyYAML built without libyaml: import fails
from harness.scenario import bounded
from harness.scenario.source import parse
assert bounded._Parser.__module__ == "harness.scenario.bounded", bounded._Parser
data, lines = parse(open(sys.argv[1]).read())
print(data["name"], lines.keys[("name",)])
try:
    parse("system: {command: [x]}\\ntags: [" + ", ".join(["1"] * 20000) + "]\\n")
except bounded.LimitError as exc:
    print("refused at line", exc.problem_mark.line + 1)
"""


def test_without_libyaml_the_pure_python_parser_gives_the_same_bounds() -> None:
    """libyaml parses the events where PyYAML has it; the bounds live in the composer, so a
    PyYAML without it reads and refuses the same files."""
    scenario = Path(__file__).parents[3] / "scenarios" / "backend-sigkill.yaml"
    out = subprocess.run(
        [sys.executable, "-c", _WITHOUT_LIBYAML, str(scenario)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.splitlines()
    assert out == [f"backend-sigkill {_line_of_name(scenario)}", "refused at line 2"]


def _line_of_name(path: Path) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.startswith("name:"))


@pytest.mark.parametrize(
    ("pattern", "named"),
    [
        (r"pid (?P<pid>\d+) ready", True),
        (r"pid \(\?P<pid>\d+\) ready", False),  # escaped: the text, not a group
        (r"(?x) pid \d+  # (?P<pid>...) in a comment", False),
        (r"(?P<other>\d+)", False),
        (r"(unclosed", False),
    ],
)
def test_a_pid_group_is_one_re_reads_as_such(pattern: str, named: bool) -> None:
    assert names_pid(pattern) is named


@pytest.mark.parametrize(
    ("value", "pid"), [("42", 42), (42, 42), ("0", None), (0, None), (True, None), ("4a", None)]
)
def test_a_pid_is_a_positive_whole_number(value: object, pid: int | None) -> None:
    assert as_pid(value) == pid

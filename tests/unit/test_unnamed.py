"""The listing of processes no role named: bounded, each command line cut and quoted."""

from __future__ import annotations

from harness.observe.unnamed import CMDLINE_SHOWN, UNNAMED_SHOWN, unnamed_listing


def test_nothing_seen_adds_nothing() -> None:
    assert unnamed_listing([]) == ""


def test_each_process_with_pid_exe_and_command_line() -> None:
    got = unnamed_listing([(12, ["/usr/bin/python3", "server.py", "--port", "80"])])
    assert got == "; seen without a role: pid 12 'python3' '/usr/bin/python3 server.py --port 80'"


def test_bounded_to_a_few_with_how_many_more() -> None:
    seen = [(pid, ["sleep", str(pid)]) for pid in range(10)]
    got = unnamed_listing(seen)
    assert got.count("pid ") == UNNAMED_SHOWN
    assert got.endswith(f"(and {10 - UNNAMED_SHOWN} more)")


def test_long_and_hostile_command_lines_are_cut_and_inert() -> None:
    argv = ["evil\x1b[31m", "x" * 500, "[/red]\n"]
    got = unnamed_listing([(7, argv)])
    assert "\x1b" not in got  # repr shows it as \x1b
    assert "\n" not in got
    assert len(got) < CMDLINE_SHOWN + 120
    assert got.endswith("...'")


def test_no_command_line_is_shown_as_unknown_exe() -> None:
    assert unnamed_listing([(3, [])]) == "; seen without a role: pid 3 '?' ''"

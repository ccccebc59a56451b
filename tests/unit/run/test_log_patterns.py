"""Which patterns of a scenario keep output lines on the timeline past the budget."""

from __future__ import annotations

from harness.run.catalog import scenario_from_mapping
from harness.run.log_patterns import log_patterns


def test_every_regex_that_reads_output_and_no_command_line_pattern() -> None:
    scenario = scenario_from_mapping(
        {
            "name": "patterns",
            "system": {"command": ["x"], "ready": {"log": "listening on (?P<port>\\d+)"}},
            "roles": {"worker": {"cmdline": "worker\\.py"}},
            "invariants": [
                {"log": {"absent": "Traceback", "present": "started"}},
                {"exit": {"code": 1, "stderr_matches": "address in use"}},
                {"log": {"absent": "Traceback"}},
            ],
        },
        {},
    )

    patterns = [p.pattern for p in log_patterns(scenario)]

    assert patterns == ["listening on (?P<port>\\d+)", "Traceback", "started", "address in use"]


def test_a_scenario_without_patterns_keeps_none() -> None:
    scenario = scenario_from_mapping({"name": "plain", "system": {"command": ["x"]}}, {})

    assert log_patterns(scenario) == ()

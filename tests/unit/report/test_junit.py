"""JUnit XML loads in the common CI parsers and says what failed."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import junitparser
import xmlschema

from harness.report.junit import clean, to_junit

from .fixtures import realistic_run

XSD = Path(__file__).with_name("junit.xsd")


def test_validates_against_the_jenkins_junit_schema() -> None:
    xmlschema.XMLSchema(XSD).validate(to_junit(realistic_run()))


def test_one_case_per_trial_with_failures_errors_and_skips(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    path.write_text(to_junit(realistic_run()), encoding="utf-8")
    xml = junitparser.JUnitXml.fromfile(str(path))
    suites = {suite.name: suite for suite in xml}
    assert list(suites) == ["backend-sigkill", "port-squatted", "needs-docker"]
    kill = [case.name for case in suites["backend-sigkill"]]
    assert kill == [f"backend-sigkill[trial-{i}]" for i in range(3)]
    outcomes = {
        case.name: [type(r).__name__ for r in case.result] for suite in xml for case in suite
    }
    assert outcomes["backend-sigkill[trial-0]"] == []
    assert outcomes["backend-sigkill[trial-2]"] == ["Failure"]
    assert outcomes["port-squatted[trial-0]"] == ["Failure"]
    assert outcomes["port-squatted[trial-1]"] == ["Error"]
    assert outcomes["needs-docker"] == ["Skipped"]
    assert (xml.tests, xml.failures, xml.errors, xml.skipped) == (6, 2, 1, 1)


def test_failure_carries_the_invariant_detail_and_the_events_around_it() -> None:
    root = ET.fromstring(to_junit(realistic_run()))
    failure = root.find(".//testcase[@name='backend-sigkill[trial-2]']/failure")
    assert failure is not None
    assert failure.get("type") == "recovers"
    assert "not back within 1s" in (failure.get("message") or "")
    text = failure.text or ""
    assert "expected: role backend back to 1 live process within 1s" in text
    assert "process_exit pid=1001" in text
    assert "signal=SIGKILL" in text


def test_output_with_control_characters_still_parses() -> None:
    document = to_junit(realistic_run())
    root = ET.fromstring(document)
    out = root.find(".//testcase[@name='backend-sigkill[trial-2]']/system-out")
    assert out is not None
    assert out.text is not None
    assert "slow start <script>alert(1)</script> & more" in out.text
    assert "\x1b" not in document


def test_clean_keeps_text_and_shows_control_bytes() -> None:
    assert clean("a\x1b[31mred\x1b[0m\x07b\tc\n") == "ared\\x07b\tc\n"

"""``exit``: the root's exit code, and a clear message on stderr."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from timelines import backend_system

from harness.invariants.exit import ExitSpec, check
from harness.spec.verdict import Verdict


def test_refusing_to_start_with_a_clear_message_passes() -> None:
    story = backend_system().log(0.2, "error: port 4000 is taken", stream="stderr")
    story.exit(0.3, 100, code=2)
    res = check(ExitSpec(codes=[1, 2], stderr_matches="port .* taken"), story.history())
    assert res.verdict is Verdict.PASS
    assert res.metrics == {"exit_codes": [2]}


def test_wrong_code_or_signal_fails() -> None:
    story = backend_system().exit(0.3, 100, code=0)
    res = check(ExitSpec(code=1), story.history())
    assert res.verdict is Verdict.FAIL
    assert "ended by exit code 0 at 0.30s; expected exit code 1" in res.detail
    story = backend_system().exit(9.0, 100, signal="SIGKILL")
    assert "signal SIGKILL" in check(ExitSpec(code=1), story.history()).detail


def test_silent_exit_or_no_exit_fails() -> None:
    story = backend_system().log(0.2, "bye", stream="stderr").exit(0.3, 100, code=1)
    res = check(ExitSpec(code=1, stderr_matches="port"), story.history())
    assert res.verdict is Verdict.FAIL
    assert "none of 1 stderr line(s) matched /port/" in res.detail
    res = check(ExitSpec(code=1), backend_system().history())
    assert "never exited" in res.detail


def test_spec_rules() -> None:
    with pytest.raises(ValidationError, match="expected code, codes or stderr_matches"):
        ExitSpec()
    with pytest.raises(ValidationError, match="not both"):
        ExitSpec(code=1, codes=[2])


def test_nonzero_takes_any_code_but_zero_and_never_a_signal() -> None:
    spec = ExitSpec.model_validate({"code": "nonzero"})
    for code, verdict in ((1, Verdict.PASS), (3, Verdict.PASS), (0, Verdict.FAIL)):
        story = backend_system().exit(0.3, 100, code=code)
        assert check(spec, story.history()).verdict is verdict, code
    story = backend_system().exit(0.3, 100, signal="SIGKILL")
    res = check(spec, story.history())
    assert res.verdict is Verdict.FAIL
    assert "expected a non-zero exit code" in res.detail
    with pytest.raises(ValidationError):
        ExitSpec.model_validate({"code": "sometimes"})

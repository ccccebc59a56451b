"""``log``: a pattern is absent from (or present in) the system's own output.

Companion's "Module registration failed Error: Call timed out" was in the log long before
anyone looked at the status; dora-rs's daemon logged its fatal error on the way out.
``LogLine`` events carry what the system's root wrote to stdout and stderr.
"""

from __future__ import annotations

import re
from typing import ClassVar, Literal

from pydantic import model_validator

from harness.invariants.base import Checker, History
from harness.invariants.outcome import listing, result, secs
from harness.observe.events import LogLine
from harness.spec.kinds import InvariantSpec
from harness.spec.regex import Regex
from harness.spec.verdict import InvariantResult

KIND = "log"


class LogSpec(InvariantSpec):
    """``log: {absent?: regex, present?: regex, stream?: stdout|stderr, instance?}``."""

    not_templates: ClassVar[frozenset[str]] = frozenset({"stream"})

    absent: Regex | None = None
    present: Regex | None = None
    stream: Literal["stdout", "stderr"] | None = None
    instance: int | None = None

    @model_validator(mode="after")
    def _one_pattern(self) -> LogSpec:
        if self.absent is None and self.present is None:
            raise ValueError("expected absent or present (a regular expression)")
        return self


def _lines(spec: LogSpec, history: History) -> list[LogLine]:
    return [
        line
        for line in history.of(LogLine)
        if spec.stream in (None, line.stream) and spec.instance in (None, line.instance)
    ]


def _short(text: str) -> str:
    return text if len(text) <= 100 else text[:97] + "..."


def check(spec: LogSpec, history: History) -> InvariantResult:
    """``absent``: no line matches; ``present``: at least one does."""
    lines = _lines(spec, history)
    problems: list[str] = []
    evidence: list[float] = []
    wanted: list[str] = []
    metrics: dict[str, int] = {"log_lines": len(lines)}
    if spec.absent is not None:
        wanted.append(f"no line matching /{spec.absent}/")
        bad = [line for line in lines if re.search(spec.absent, line.line)]
        metrics["log_matches"] = len(bad)
        if bad:
            evidence += [line.t for line in bad[:20]]
            shown = [f"at {secs(line.t)}: {_short(line.line)!r}" for line in bad]
            problems.append(f"{len(bad)} line(s) matched /{spec.absent}/: {listing(shown)}")
    if spec.present is not None:
        wanted.append(f"a line matching /{spec.present}/")
        good = [line for line in lines if re.search(spec.present, line.line)]
        if good:
            evidence.append(good[0].t)
        else:
            problems.append(f"none of {len(lines)} line(s) matched /{spec.present}/")
    expected = " and ".join(wanted)
    if problems:
        detail = f"{'; '.join(problems)}; expected {expected}"
    else:
        detail = f"{len(lines)} line(s) checked: found {expected}"
    return result(
        KIND,
        spec,
        not problems,
        detail,
        expected=expected,
        observed="; ".join(problems) or "as expected",
        metrics=metrics,
        evidence=evidence,
    )


CHECKER = Checker(KIND, LogSpec, check, after_exit=True)

"""``exit``: the root process ends with an expected code (and, optionally, says why).

For a system expected to refuse to start (its port is taken and it cannot move): it must
exit non-zero with a clear message, never hang or take over another instance's port.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import model_validator

from harness.invariants.base import Checker, History
from harness.invariants.lifetimes import INF, Lifetimes
from harness.invariants.outcome import listing, result, secs
from harness.observe.events import LogLine, SystemStart
from harness.spec.kinds import InvariantSpec
from harness.spec.regex import Regex
from harness.spec.verdict import InvariantResult

KIND = "exit"


class ExitSpec(InvariantSpec):
    """``exit: {code?, codes?, stderr_matches?}``; ``code: nonzero`` is any code but 0 (a
    system refusing to start says so with a code of its own choosing)."""

    code: int | Literal["nonzero"] | None = None
    codes: list[int] | None = None
    stderr_matches: Regex | None = None

    @model_validator(mode="after")
    def _something(self) -> ExitSpec:
        if self.code is None and self.codes is None and self.stderr_matches is None:
            raise ValueError("expected code, codes or stderr_matches")
        if self.code is not None and self.codes is not None:
            raise ValueError("give code or codes, not both")
        return self

    def allowed(self) -> list[int] | None:
        if isinstance(self.code, int):
            return [self.code]
        return self.codes

    def accepts(self, code: int | None) -> bool:
        """Whether an exit with ``code`` (None: ended by a signal) is allowed."""
        if self.code == "nonzero":
            return code is not None and code != 0
        allowed = self.allowed()
        return allowed is None or (code is not None and code in allowed)

    def wanted_code(self) -> str | None:
        """The codes allowed, in words; None when any is."""
        if self.code == "nonzero":
            return "a non-zero exit code"
        allowed = self.allowed()
        return None if allowed is None else f"exit code {' or '.join(map(str, allowed))}"


def check(spec: ExitSpec, history: History) -> InvariantResult:
    """Every instance's root exited with an allowed code; stderr matched if asked."""
    lives = Lifetimes(history)
    roots = lives.roots()
    for start in history.of(SystemStart):
        life = lives.at(start.pid, INF)
        if start.instance not in roots and life is not None:
            roots[start.instance] = life
    wanted: list[str] = []
    if (code_words := spec.wanted_code()) is not None:
        wanted.append(code_words)
    if spec.stderr_matches is not None:
        wanted.append(f"stderr matching /{spec.stderr_matches}/")
    expected = "the root ends with " + " and ".join(wanted)
    if not roots:
        return result(
            KIND,
            spec,
            False,
            "no root process was recorded; nothing to judge",
            expected=expected,
            observed="no root",
        )
    problems: list[str] = []
    evidence: list[float] = []
    codes: list[int | None] = []
    multi = len(roots) > 1
    for instance, root in sorted(roots.items()):
        where = f" of instance {instance}" if multi else ""
        codes.append(root.code)
        if root.exit == INF:
            problems.append(f"the root{where} (pid {root.pid}) never exited")
            continue
        evidence.append(root.exit)
        if not spec.accepts(root.code):
            problems.append(f"the root{where} ended by {root.how_it_ended()} at {secs(root.exit)}")
        if spec.stderr_matches is not None:
            lines = [
                line
                for line in history.of(LogLine)
                if line.instance == instance and line.stream == "stderr"
            ]
            hits = [line for line in lines if re.search(spec.stderr_matches, line.line)]
            if hits:
                evidence.append(hits[0].t)
            else:
                tail = [repr(line.line[:80]) for line in lines[-2:]]
                last = f" (last: {listing(tail)})" if tail else ""
                problems.append(
                    f"none of {len(lines)} stderr line(s){where} matched"
                    f" /{spec.stderr_matches}/{last}"
                )
    metrics = {"exit_codes": codes}
    if problems:
        return result(
            KIND,
            spec,
            False,
            f"{listing(problems)}; expected {' and '.join(wanted)}",
            expected=expected,
            observed=listing(problems),
            metrics=metrics,
            evidence=evidence,
        )
    return result(
        KIND,
        spec,
        True,
        f"the root ended with {', '.join(r.how_it_ended() for r in roots.values())}; expected"
        f" {' and '.join(wanted)}",
        expected=expected,
        observed="as expected",
        metrics=metrics,
        evidence=evidence,
    )


CHECKER = Checker(KIND, ExitSpec, check)

"""Errors by who is at fault.

The CLI maps each family to one exit code, in one place (``harness.cli.app``):

- ``ScenarioError``: the scenario author (bad file, bad ``--var``): exit 2, nothing started.
- ``SystemUnderTestError``: the system misbehaved in a way that ends a trial early
  (it would not start: ``NotReadyError``): a failed verdict with evidence, exit 1.
- ``HostError``: the machine (no free port, no /proc, permission denied): exit 3 with what
  to check.
- ``JournalError``: a journal given to ``report``/``compare`` cannot be read: exit 2.
- Anything else is our own bug: exit 3 with "please report".
"""

from __future__ import annotations


class ChaosError(Exception):
    """Base of every error the harness raises on purpose."""


class ScenarioError(ChaosError):
    """The scenario (or a command-line override) is invalid.

    ``file``, ``line`` and ``field`` locate the problem (``column`` too, where a single
    character is at fault: a NUL, a byte that is not UTF-8); ``str()`` is one readable
    sentence, ``file:line[:column]: field: message``.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
        column: int | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.field = field
        self.column = column
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file
            if self.line:
                where += f":{self.line}" + (f":{self.column}" if self.column else "")
            where += ": "
        field = f"{self.field}: " if self.field else ""
        return f"{where}{field}{self.message}"


class UsageError(ChaosError):
    """A command-line usage problem that is not about a scenario file (exit 2)."""


class SystemUnderTestError(ChaosError):
    """The system under test could not be started or observed as the scenario says."""


class NotReadyError(SystemUnderTestError):
    """The system did not become ready; ``output_tail`` holds its last output lines."""

    def __init__(self, message: str, output_tail: list[str]) -> None:
        super().__init__(message)
        self.output_tail = output_tail


class HostError(ChaosError):
    """The host cannot run the trial (permissions, missing kernel features, no ports)."""


class JournalError(ChaosError):
    """A journal file cannot be read back: missing, not JSON, or not a chaos journal."""

"""The ``chaos`` command line. The one place that prints and maps errors to exit codes.

Every text that comes from outside (paths, names, scenario content, error messages) is
printed through ``harness.report.escape``: never read as rich markup or emoji codes.

Exit codes (the contract): 0 every invariant held; 1 an invariant failed or the system did
not become ready (or ``compare`` found a regression); 2 bad usage or an invalid scenario
(nothing was started); 3 the harness itself failed (host problem, or our bug).

One module per group of commands (``run``, ``suite``, ``journals``, ``reruns``, ``host``),
all on the one Typer ``app`` (``app``); the report flags in ``flags``.
"""

from __future__ import annotations

import sys

# Each command module registers its commands on ``app`` when imported.
from harness.cli import host, init, journals, reruns, run, suite  # noqa: F401
from harness.cli.app import ExitCode, app

__all__ = ["ExitCode", "app", "main"]


def main(argv: list[str] | None = None) -> int:
    """Console-script entry: run the Typer app with the exit-code contract.

    Click's standalone mode prints usage errors as one line (exit 2) and turns every
    ``typer.Exit`` into ``SystemExit``; its code is what we return.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        app(args=args, prog_name="chaos", standalone_mode=True)
    except SystemExit as exc:
        if exc.code is None:
            return int(ExitCode.OK)
        return exc.code if isinstance(exc.code, int) else int(ExitCode.USAGE)
    return int(ExitCode.OK)


if __name__ == "__main__":
    raise SystemExit(main())

"""``python -m harness.testbed``: run the supervisor (the entry point is ``cli.main``)."""

from __future__ import annotations

from harness.testbed.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    raise SystemExit(main())

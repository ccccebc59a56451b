"""Paste generated text into README.md between ``<!-- NAME:start -->`` / ``<!-- NAME:end -->``.

The README's detection matrix is never written by hand: the matrix test writes
``reports/detection-matrix.md`` and this script copies it in::

    pytest tests/e2e/test_detection_matrix.py && python docs/update_readme.py matrix \
        reports/detection-matrix.md
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def replace_block(text: str, name: str, body: str) -> str:
    """``text`` with the block ``name`` replaced by ``body``; the markers must exist."""
    pattern = re.compile(
        rf"(<!-- {re.escape(name)}:start -->\n).*?(<!-- {re.escape(name)}:end -->)", re.S
    )
    if not pattern.search(text):
        raise SystemExit(f"README.md has no <!-- {name}:start --> ... <!-- {name}:end --> block")
    return pattern.sub(lambda m: m.group(1) + body.rstrip("\n") + "\n" + m.group(2), text)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        sys.stderr.write("usage: update_readme.py BLOCK FILE\n")
        return 2
    name, source = argv
    README.write_text(replace_block(README.read_text(), name, Path(source).read_text()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

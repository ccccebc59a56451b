"""The journal as a reporter: the ``chaos-journal/1`` document as text.

The same document, with the same layout, as ``harness.results.journal.write`` writes while a
run goes on, so the journal a reporter writes and the one a run rewrote after its last trial
are the same bytes (a unit test holds them together).
"""

from __future__ import annotations

import json

from harness.results.journal import run_to_dict
from harness.results.model import RunResult


def to_json(run: RunResult) -> str:
    """The journal of ``run`` (one-space indent; values JSON does not know as strings)."""
    return json.dumps(run_to_dict(run), indent=1, default=str)

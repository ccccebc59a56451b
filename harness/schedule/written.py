"""A schedule written back as a scenario file: what ``chaos shrink`` leaves behind.

The original file's data with ``faults`` replaced by the schedule's steps, each one a plain
entry as that trial ran it: a timed step at its drawn time (jitter and ``every`` resolved),
a ``mix`` step as the fault it drew, an event step with its trigger. ``vars`` take the
values the trial ran with (a ``--var`` or a ``chaos matrix`` value included), and the name
gets ``-shrunk`` so it can sit beside the original. A comment at the top says where it came
from and what was removed, moved and shortened. YAML comments of the original are lost.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from harness.scenario.source import parse
from harness.schedule.describe import in_firing_order
from harness.schedule.model import BEFORE, Schedule, Step
from harness.schedule.shrink import ShrinkResult, duration_text


def fault_item(step: Step) -> dict[str, Any]:
    """One step as a fault entry of a scenario file."""
    options = {k: v for k, v in step.options.items() if v is not None}
    if step.timed:
        trigger: dict[str, Any] = {"at": duration_text(step.at or 0.0)}
    elif step.trigger == BEFORE:
        trigger = {"before": "start"}
    else:
        trigger = {step.trigger: dict(step.event or {})}
    return {**trigger, step.kind: options}


def scenario_text(
    source: str,
    schedule: Schedule,
    *,
    name: str,
    variables: Mapping[str, str],
    header: Sequence[str],
) -> str:
    """The scenario ``source`` (a file's text) running ``schedule``, with ``header`` lines
    as a comment on top."""
    data, _ = parse(source)
    if not isinstance(data, dict):
        raise ValueError("the scenario file is not a mapping")
    body: dict[Any, Any] = dict(data)
    body["name"] = f"{name}-shrunk"
    if isinstance(body.get("vars"), dict):
        body["vars"] = {k: variables.get(str(k), v) for k, v in body["vars"].items()}
    steps = in_firing_order(schedule)
    body["faults"] = [fault_item(s) for s in steps]
    text = yaml.safe_dump(
        body, sort_keys=False, allow_unicode=True, width=96, default_flow_style=None
    )
    numbering = ", ".join(f"faults[{i}] is #{s.number}" for i, s in enumerate(steps))
    lines = [*header]
    if numbering:
        lines.append(f"Here {numbering} of that trial.")
    lines.append("The comments of the original file are not kept.")
    wrapped = [  # a command (indented) stays on one line: it is meant to be copied
        part
        for line in lines
        for part in ([line] if line.startswith("  ") else textwrap.wrap(line, 90))
    ]
    comment = "".join(f"# {line}\n" for line in wrapped)
    return comment + text


def shrink_header(
    result: ShrinkResult, *, file: str, trial: str, seed: int, command: str
) -> list[str]:
    """The comment on top of a shrunk scenario: where it came from, what was taken out."""
    kept = len(result.smallest.steps)
    lines = [
        f"Shrunk from {file}, trial {trial} (seed {seed}), by:",
        f"  {command}",
        f"The smallest schedule found that still fails the same way on two runs in a row: "
        f"{kept} of {len(result.original.steps)} fault(s), after {result.runs} rerun(s) in "
        f"{result.seconds:.0f}s" + (f" (stopped by {result.stopped})." if result.stopped else "."),
    ]
    changes = result.summary()
    lines += changes or ["Nothing could be removed, moved or shortened."]
    lines.append("Times, jitter draws and mix choices as that trial ran them; vars as it had them.")
    return lines

"""When faults fire: a trial's schedule, planned from its seed, run, replayed and shrunk.

``model`` (the schedule as data), ``plan`` (scenario + seed → schedule: jitter, every, mix,
phases), ``triggers`` (event triggers as pure matchers), ``nemesis`` (runs a schedule),
``describe`` (its words, for ``--dry-run``), ``replay`` (naming a journal's trial and the
commands that rerun it), ``shrink`` (the smallest schedule that still fails), ``written``
(a schedule back as a scenario file).
"""

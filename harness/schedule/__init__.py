"""When faults fire: the nemesis and its triggers (``at``, ``before: start``, ``on_spawn``)."""

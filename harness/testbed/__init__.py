"""The testbed: a small, real supervisor built like the five incidents, each bug switchable.

It is a system under test like any other: it imports only the standard library and never
the rest of ``harness``. Run it with ``python -m harness.testbed`` (see ``cli.py``).
"""

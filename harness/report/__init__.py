"""Reporters: console, JUnit XML, HTML, Markdown and ``compare``, all from a ``RunResult``.

Only reporters print or write; each takes the run's data and returns a string (or writes a
file through ``writers``), so a journal can be re-rendered at any time without re-running.
"""

"""Invariants: pure checkers of a recorded timeline, one module per kind."""

"""Faults: one module per kind, each registered by name in ``harness.faults.registry``."""

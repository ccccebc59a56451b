"""chaos: run a managed-process system under real faults and judge its recovery."""

__version__ = "0.1.0"

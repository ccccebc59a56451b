"""The ground floor: the words every part of the harness is written in.

Units, signals, regular expressions, the HTTP call, the loopback rule, the option bases of
every extension point (faults, invariants, probes), the verdict, and the registry they are
looked up in. Only the standard library and pydantic are imported here.
"""

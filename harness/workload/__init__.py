"""Workload kinds: clients as users run them (HTTP kept alive or not, TCP, a command)."""

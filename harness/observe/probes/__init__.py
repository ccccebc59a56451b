"""Probe kinds: how one reading of what the system says about itself is taken (a registry)."""

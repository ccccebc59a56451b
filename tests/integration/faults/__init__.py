"""Fault kinds and the nemesis against real child processes."""

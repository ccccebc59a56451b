"""Observers record what happens; they never judge. Everything lands on one Timeline."""

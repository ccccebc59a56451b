"""Helpers every tier of the suite shares (importable as ``support``: see ``pythonpath``)."""

from .wait import WaitTimeout, wait_until

__all__ = ["WaitTimeout", "wait_until"]

"""The harness version: written into every journal, printed by ``chaos version``."""

__version__ = "0.2.0.dev0"

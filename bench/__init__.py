"""Benchmarks (not tests): figures to compare, measured side by side in one run.

Run them from the repository root: ``python -m bench.recovery`` (the testbed beside
supervisord, circus and a floor; ``pip install -e ".[bench]"``), ``python
bench/tracker_overhead.py``, ``python bench/testbed_idle.py``. See bench/README.md.
"""

"""Benchmarks of the integration against a baseline webhook in one Home Assistant.

Run with ``scripts/bench`` (see ``docs/performance.md`` for what is measured).
"""

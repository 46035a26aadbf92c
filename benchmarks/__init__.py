"""Benchmarks of the integration against the floor and an empty webhook in one Home Assistant.

Run with ``scripts/bench`` (see ``docs/performance.md`` for what is measured).
"""

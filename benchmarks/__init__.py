"""Benchmarks: speed and quality figures, run as scripts (never as timed tests)."""

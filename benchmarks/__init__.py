"""Benchmarks (``make bench``): not part of the runtime package."""

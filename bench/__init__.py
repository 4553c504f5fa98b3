"""Benchmarks against their anchors (see bench/README.md)."""

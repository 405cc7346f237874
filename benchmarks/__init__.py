"""Benchmarks measured against the figures in TARGETS.md. Run each as ``python -m benchmarks.<name>``."""

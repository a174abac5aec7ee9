"""Benchmarks: the book's pipeline, the package and the PyTorch peer, side by side."""
from .suite import BenchConfig, format_report, run_suite

__all__ = ["BenchConfig", "format_report", "run_suite"]

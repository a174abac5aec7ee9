"""Experiments built on one training run: train, compare, reproduce, sweep."""
from .compare import compare_models, format_table
from .runner import train_model

__all__ = ["compare_models", "format_table", "train_model"]

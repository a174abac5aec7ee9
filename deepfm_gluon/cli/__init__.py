"""Command-line interface; the entry point is ``main``."""
from .main import main

__all__ = ["main"]

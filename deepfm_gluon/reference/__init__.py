"""The d2l chapters' own code, verbatim, kept as the reference (oracle) for
tests, benchmarks and notebooks; never used for training by the package."""
from .book import BookDeepFM, BookFM

__all__ = ["BookDeepFM", "BookFM"]

"""Criteo data: a streaming byte-level reader, encoders fitted in one pass,
and a memory-mapped on-disk cache (docs/criteo.md).

Modules: ``format`` (layout, format detection), ``reader`` (chunks of
validated, keyed lines), ``encode`` (streaming vocabulary and hashing),
``cache`` (build and reuse the cache), ``dataset`` (``CriteoDataset``,
``load_criteo``), ``synthetic`` (a deterministic Criteo-format generator).

The names below load on first use, so that importing a light submodule
(``format``, for scoring) does not pull in the cache's pandas.
"""
import importlib

_HOMES = {"CriteoOptions": "cache", "open_cache": "cache", "CriteoDataset": "dataset",
          "load_criteo": "dataset", "FIELD_NAMES": "format", "NUM_FIELDS": "format",
          "detect_format": "format", "CriteoSyntheticSpec": "synthetic",
          "write_criteo_synthetic": "synthetic"}

__all__ = sorted(_HOMES)


def __getattr__(name):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # start-up: the submodule is imported on first use (the cache imports pandas)
    return getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)

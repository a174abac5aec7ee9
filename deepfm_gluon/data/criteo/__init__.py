"""Criteo data: its layout as a table schema (``format``), a deterministic
Criteo-format generator (``synthetic``), and the table machinery
(data/table/) bound to that schema: ``open_cache``, ``load_criteo``,
``CriteoOptions`` (docs/criteo.md).

The names below load on first use, so that importing a light submodule
(``format``, for scoring) does not pull in the cache's pandas.
"""
import importlib
import os

from ..download import default_data_dir

_HOMES = {"FIELD_NAMES": "format", "NUM_FIELDS": "format", "CRITEO": "format",
          "detect_format": "format", "CriteoSyntheticSpec": "synthetic",
          "write_criteo_synthetic": "synthetic"}

__all__ = sorted(list(_HOMES) + ["CriteoOptions", "CriteoDataset", "open_cache", "load_criteo"])


def CriteoOptions(**options):  # noqa: N802 (reads as the options class it makes)
    """``TableOptions`` for Criteo's schema (data/table/cache.py)."""
    from ..table.cache import TableOptions  # start-up: the cache imports pandas
    from .format import CRITEO  # start-up: with the line above

    return TableOptions(schema=CRITEO, **options)


def open_cache(path, cache_dir, options=None, log=None):
    """The cache of the Criteo file ``path`` (data/table/cache.py)."""
    from ..table.cache import open_cache as open_table_cache  # start-up: pandas

    return open_table_cache(path, cache_dir, options or CriteoOptions(), log)


def load_criteo(path, cache_dir=None, options=None, log=None):
    """(train, test) of the Criteo file ``path`` (data/table/dataset.py);
    ``cache_dir`` default: <data dir>/criteo-cache."""
    from ..table.dataset import load_table  # start-up: pandas

    cache_dir = cache_dir or os.path.join(default_data_dir(), "criteo-cache")
    return load_table(path, cache_dir, options or CriteoOptions(), log)


def __getattr__(name):
    if name == "CriteoDataset":
        from ..table.dataset import TableDataset  # start-up: pandas

        return TableDataset
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # start-up: the submodule is imported on first use (the cache imports pandas)
    return getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)

"""Criteo data: a streaming byte-level reader, encoders fitted in one pass,
and a memory-mapped on-disk cache (docs/criteo.md).

Modules: ``format`` (layout, format detection), ``reader`` (chunks of
validated, keyed lines), ``encode`` (streaming vocabulary and hashing),
``cache`` (build and reuse the cache), ``dataset`` (``CriteoDataset``,
``load_criteo``), ``synthetic`` (a deterministic Criteo-format generator).
"""
from .cache import CriteoOptions, open_cache
from .dataset import CriteoDataset, load_criteo
from .format import FIELD_NAMES, NUM_FIELDS, detect_format
from .synthetic import CriteoSyntheticSpec, write_criteo_synthetic

__all__ = ["CriteoDataset", "CriteoOptions", "CriteoSyntheticSpec", "FIELD_NAMES", "NUM_FIELDS",
           "detect_format", "load_criteo", "open_cache", "write_criteo_synthetic"]

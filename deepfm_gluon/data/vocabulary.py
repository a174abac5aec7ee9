"""Per-field vocabularies with d2l's semantics, built and applied with numpy.

d2l keeps, per field, the values seen at least ``min_threshold`` times in the
training file; every other value maps to the field's default index (the
vocabulary size). d2l numbers the kept values in Python ``set`` order, which
changes with PYTHONHASHSEED from one process to the next, so its encoding is
not reproducible across runs. Here kept values are numbered in sorted order:
the same data always gives the same mapping.
"""
import numpy as np


def build_field_mapping(values, min_threshold):
    """(mapping value->index, encoded column) for one training column."""
    # imported here to keep start-up fast: pandas costs ~0.2 s and the default data path does not need it
    import pandas as pd

    codes, uniques = pd.factorize(values, sort=True)
    return mapping_from_codes(codes, uniques, min_threshold)


def mapping_from_codes(codes, uniques, min_threshold):
    """``build_field_mapping`` from a column already factorized in sorted order."""
    counts = np.bincount(codes, minlength=len(uniques))
    kept = counts >= min_threshold
    lookup = np.full(len(uniques), int(kept.sum()), dtype=np.int64)
    lookup[kept] = np.arange(int(kept.sum()))
    mapping = {v: int(i) for v, i in zip(uniques[kept], lookup[kept])}
    return mapping, lookup[codes]


def apply_field_mapping(values, mapping, default):
    """Encode one column with a given mapping; unseen values get ``default``."""
    # imported here to keep start-up fast: pandas costs ~0.2 s and the default data path does not need it
    import pandas as pd

    codes, uniques = pd.factorize(values)
    return apply_mapping_to_codes(codes, uniques, mapping, default)


def apply_mapping_to_codes(codes, uniques, mapping, default):
    """``apply_field_mapping`` from a factorized column (any order of uniques)."""
    lookup = np.fromiter((mapping.get(v, default) for v in uniques), dtype=np.int64,
                         count=len(uniques))
    return lookup[codes]


def field_offsets(field_dims):
    """Start of each field's block in the one shared embedding table."""
    dims = np.asarray(field_dims, dtype=np.int64)
    return np.concatenate([[0], np.cumsum(dims)[:-1]]).astype(np.int64)

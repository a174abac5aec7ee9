"""Column codes straight from the file's bytes, for clean d2l-format files.

``read_ctr_columns`` makes one Python string per cell and hashes them again
per column; that is what bounds encoding speed. Here a clean file (ASCII, LF
line ends, every line with the right column count and a 0/1 label, no NUL
byte) is cut into cells by the shared splitter (data/cells.py); each field
column becomes big-endian 8-byte words (cells of up to 8 bytes) or ``S<width>``
strings, and a sorted factorization gives its sorted distinct values and
per-line codes. Sorted bytes are sorted ASCII strings, so the codes are
exactly what ``pd.factorize(values, sort=True)`` gives on the strings
(``np.unique`` on small files, so a small file does not import pandas). Any
file that is not clean returns None, and the caller takes the line-by-line
reader, which counts and reports every problem.
"""
import os

import numpy as np

from .cells import CR, split_cells


def read_clean_codes(path, num_feat, with_label=True):
    """(labels (n,) float32 or None, [(codes (n,) int64, uniques object array
    of str)] per field, line count), or None when the file needs the careful
    reader (see the module docstring)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        return None
    with open(path, "rb") as f:
        raw = f.read()
    if not raw:
        return None
    if not raw.endswith(b"\n"):
        raw += b"\n"
    buf = np.frombuffer(raw, dtype=np.uint8)
    if buf.max() >= 128 or (buf == CR).any() or (buf == 0).any():
        return None
    num_cols = num_feat + (1 if with_label else 0)
    cells = split_cells(buf, num_cols, raw.count(b"\n"))
    if cells is None:
        return None
    first, labels = 0, None
    if with_label:
        first_bytes = buf[cells.starts[:, 0]]
        if not ((cells.lengths[:, 0] == 1) & ((first_bytes == ord("0")) | (first_bytes == ord("1")))).all():
            return None
        labels = (first_bytes == ord("1")).astype(np.float32)
        first = 1
    columns = [_column_codes(cells, c) for c in range(first, num_cols)]
    return labels, columns, len(cells.starts)


def _column_codes(cells, col):
    """Sorted distinct cell values (object array of str) and each line's code."""
    width = max(int(cells.lengths[:, col].max()), 1)
    if width <= 8:
        codes, uniq = _sorted_factorize(cells.column_words(col, byteorder=">"))
        raw = np.asarray(uniq, dtype=np.uint64).astype(">u8").view(np.uint8).reshape(-1, 8)
    else:
        uniq, codes = np.unique(cells.fixed_width(col), return_inverse=True)
        raw = uniq.view(np.uint8).reshape(-1, width)
    uniques = np.array([bytes(row).rstrip(b"\0").decode("ascii") for row in raw], dtype=object)
    return np.asarray(codes, dtype=np.int64), uniques


SMALL_COLUMN = 50_000  # rows; below this np.unique's sort costs less than importing pandas


def _sorted_factorize(words):
    """(codes, sorted distinct values) of a uint64 column: np.unique for a
    small file (no pandas import at start-up), pandas' hash factorize (several
    times faster than a sort on a large column) otherwise."""
    if len(words) < SMALL_COLUMN:
        uniq, codes = np.unique(words, return_inverse=True)
        return codes, uniq
    # imported here to keep start-up fast: pandas costs ~0.2 s, paid only for large files
    import pandas as pd

    return pd.factorize(words, sort=True)

"""Column codes straight from the file's bytes, for clean files.

``read_ctr_columns`` makes one Python string per cell (35 million for a
million lines) and hashes them again per column; that is what bounds
encoding speed. Here a clean file (ASCII, LF line ends, every line with the
right column count and a 0/1 label, no NUL byte) is cut into cells with
numpy: each field column becomes a fixed-width byte matrix, viewed as
big-endian integers (up to 8 bytes) or as ``S<width>`` strings, and
``np.unique`` gives its sorted distinct values and per-line codes. Sorted
bytes are sorted ASCII strings, so the codes are exactly what
``pd.factorize(values, sort=True)`` gives on the strings. Any file that is
not clean returns None, and the caller takes the line-by-line reader,
which counts and reports every problem as before.
"""
import os

import numpy as np

TAB, LF, CR = 9, 10, 13


def read_clean_codes(path, num_feat, with_label=True):
    """(labels or None, [(codes, uniques)] per field, line count), or None
    when the file needs the careful reader (see the module docstring)."""
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
    num_lines = raw.count(b"\n")
    # Cell ends (the tab or newline after each cell); int32 where the file allows,
    # and one column at a time below, to keep the peak memory near the file's size.
    ends = np.flatnonzero((buf == TAB) | (buf == LF))
    if len(ends) != num_lines * num_cols:
        return None
    if len(buf) < 2**31 - 16:
        ends = ends.astype(np.int32)
    ends = ends.reshape(num_lines, num_cols)
    if not (buf[ends[:, -1]] == LF).all():
        return None
    starts = np.empty_like(ends)
    starts[0, 0] = 0
    starts.ravel()[1:] = ends.ravel()[:-1] + 1
    lengths = ends - starts
    del ends
    first = 0
    labels = None
    if with_label:
        first_bytes = buf[starts[:, 0]]
        if not ((lengths[:, 0] == 1) & ((first_bytes == ord("0")) | (first_bytes == ord("1")))).all():
            return None
        labels = (first_bytes == ord("1")).astype(np.float32)
        first = 1
    reader = _WordReader(buf)
    columns = [_column_codes(buf, reader, starts[:, c], lengths[:, c]) for c in range(first, num_cols)]
    return labels, columns, num_lines


class _WordReader:
    """Each cell's first 8 bytes as one big-endian integer, zero-padded: for
    cells of at most 8 bytes, integer order is string order. One unaligned
    8-byte read per cell, then the bytes past the cell are masked off."""

    def __init__(self, buf):
        self.padded = np.concatenate([buf, np.zeros(8, dtype=np.uint8)])
        self.at = np.ndarray(shape=(len(buf),), dtype=">u8", buffer=self.padded, strides=(1,))
        self.keep = np.array([~np.uint64(0) << np.uint64(8 * (8 - n)) if n else 0 for n in range(8)]
                             + [~np.uint64(0)], dtype=np.uint64)

    def words(self, starts, lengths):
        return self.at[starts].astype(np.uint64) & self.keep[np.minimum(lengths, 8)]


def _column_codes(buf, reader, starts, lengths):
    """Sorted distinct cell values (object array of str) and each line's code."""
    import pandas as pd
    width = max(int(lengths.max()), 1)
    if width <= 8:
        codes, uniq = pd.factorize(reader.words(starts, lengths), sort=True)
        raw = np.asarray(uniq, dtype=np.uint64).astype(">u8").view(np.uint8).reshape(-1, 8)
    else:
        offsets = np.arange(width)
        index = np.minimum(starts[:, None] + offsets, len(buf) - 1)
        cells = np.where(offsets < lengths[:, None], buf[index], 0).astype(np.uint8)
        keys = np.ascontiguousarray(cells).view(f"S{width}").ravel()
        uniq, codes = np.unique(keys, return_inverse=True)
        raw = uniq.view(np.uint8).reshape(-1, width)
    uniques = np.array([bytes(row).rstrip(b"\0").decode("ascii") for row in raw], dtype=object)
    return np.asarray(codes, dtype=np.int64), uniques

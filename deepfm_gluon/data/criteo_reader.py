"""Streams a Criteo file as chunks of parsed lines, checking every line.

Everything works on the raw bytes with numpy, without a Python string per
cell (pandas' tokenizer makes one per cell and caps the rate near 50k
rows/sec): lines are validated by counting separators per line and checking
the label byte; each cell becomes a 64-bit key, its bytes packed
little-endian when it has at most 8 (every Criteo token and almost every
integer), else a SipHash of its text with the top bit set. Memory is one
chunk of bytes plus its keys, whatever the file size. Bad lines (wrong column count, blank, label not 0/1)
are counted in a ``SkipReport`` with their line numbers, or raise with
``strict=True``; they are never dropped silently.
"""
import dataclasses
import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from ..errors import DataFormatError
from .criteo_format import NUM_COLUMNS, CriteoFormat
from .reader import SkipReport

DEFAULT_CHUNK_BYTES = 8 << 20
NEWLINE, ZERO, ONE = 10, ord("0"), ord("1")
EXPECTED = f"label (0 or 1) then 39 separated values ({NUM_COLUMNS} columns)"


@dataclasses.dataclass
class Chunk:
    """Valid lines of one block: labels (n,) float32, ``keys`` (39, n) uint64
    (I1..C26, one row per field; 0 is the empty cell), each line's 0-based
    data-line index (header excluded), and what ``texts`` needs to recover a
    cell's text (the block's bytes, cell starts and lengths)."""

    labels: np.ndarray
    keys: np.ndarray
    line_index: np.ndarray
    raw: bytes
    starts: np.ndarray
    lengths: np.ndarray

    def texts(self, field, rows):
        """The text of ``field`` in ``rows`` (for the few cells whose text is needed)."""
        raw = self.raw
        return np.array([raw[s:s + n].decode("utf-8", errors="replace")
                         for s, n in zip(self.starts[rows, field], self.lengths[rows, field])],
                        dtype=object)


def count_data_lines(path, fmt, chunk_bytes=DEFAULT_CHUNK_BYTES):
    """Lines after the header, a last line without newline included."""
    lines, last = 0, b"\n"
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk_bytes), b""):
            lines += block.count(b"\n")
            last = block[-1:]
    if last != b"\n":
        lines += 1
    return lines - (1 if fmt.header else 0)


def _blocks(path, chunk_bytes):
    """Byte blocks that each end with a complete line (a final newline added)."""
    with open(path, "rb") as f:
        rest = b""
        while True:
            block = f.read(chunk_bytes)
            if not block:
                break
            block = rest + block
            cut = block.rfind(b"\n")
            if cut < 0:
                rest = block
                continue
            rest = block[cut + 1:]
            yield block[:cut + 1]
        if rest:
            yield rest + b"\n"


def _line_problems(buf, sep_byte):
    """(delims, starts, ends, reason code per line, separators per line); codes:
    0 ok, 1 blank, 2 column count, 3 label. ``delims``: every separator and newline."""
    delims = np.flatnonzero((buf == sep_byte) | (buf == NEWLINE))
    is_end = np.flatnonzero(buf[delims] == NEWLINE)
    ends = delims[is_end]
    seps_per_line = np.diff(is_end, prepend=-1) - 1
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    codes = np.zeros(len(ends), dtype=np.int8)
    codes[seps_per_line != NUM_COLUMNS - 1] = 2
    first = buf[np.minimum(starts, len(buf) - 1)]
    second = buf[np.minimum(starts + 1, len(buf) - 1)]
    bad_label = ~(((first == ZERO) | (first == ONE)) & (second == sep_byte))
    codes[(codes == 0) & bad_label] = 3
    codes[ends == starts] = 1
    return delims, starts, ends, codes, seps_per_line


def _reason(block, start, end, code, seps, sep):
    if code == 1:
        return "blank line"
    if code == 2:
        return f"{seps + 1} columns"
    label = block[start:end].decode("utf-8", errors="replace").split(sep, 1)[0]
    return f"label {label[:20]!r}"


_MASKS = np.array([(1 << (8 * n)) - 1 for n in range(8)] + [2**64 - 1], dtype=np.uint64)
LONG_BIT = np.uint64(1 << 63)


def _load_u64(buf, positions):
    """The 8 bytes at each position, as little-endian uint64 (unaligned loads
    through an overlapping 8-byte window view; one gather)."""
    padded = np.zeros(len(buf) + 8, dtype=np.uint8)
    padded[:len(buf)] = buf
    windows = np.lib.stride_tricks.as_strided(padded, shape=(len(buf), 8), strides=(1, 1))
    return windows[positions].view(np.uint64).ravel()


def cell_keys(buf, raw, delims, count):
    """Keys (39, count) column-major, starts and lengths ((count, 39)) of
    validated lines in ``buf``; ``delims`` are all separator/newline positions."""
    if len(delims) != count * NUM_COLUMNS:  # cannot happen for validated lines
        raise DataFormatError("<chunk>", None, f"{len(delims)} cells, expected {count * NUM_COLUMNS}")
    starts = np.empty_like(delims)
    starts[0] = 0
    starts[1:] = delims[:-1] + 1
    lengths = delims - starts
    keys = _load_u64(buf, starts) & _MASKS[np.minimum(lengths, 8)]
    long_cells = np.flatnonzero(lengths > 8)
    if len(long_cells):
        texts = np.array([raw[starts[i]:delims[i]].decode("utf-8", errors="replace")
                          for i in long_cells], dtype=object)
        keys[long_cells] = pd.util.hash_array(texts, categorize=True) | LONG_BIT
    shape = (count, NUM_COLUMNS)
    return keys.reshape(shape).T.copy(), starts.reshape(shape), lengths.reshape(shape)


def _prepare(block, sep, phys, skip):
    """Validate and key one block: ([(line number, reason)], Chunk or None, data lines).
    Pure numpy on its own block, so it can run in a worker thread."""
    sep_byte = ord(sep)
    if b"\r" in block:
        block = block.replace(b"\r\n", b"\n")
    buf = np.frombuffer(block, dtype=np.uint8)
    delims, starts, ends, codes, seps = _line_problems(buf, sep_byte)
    if phys < skip:  # the header line
        codes[:skip - phys] = -1
    bad = [(phys + int(i) + 1, _reason(block, starts[i], ends[i], codes[i], seps[i], sep))
           for i in np.flatnonzero(codes > 0)]
    good = codes == 0
    keep = np.flatnonzero(good)
    data_lines = int((codes >= 0).sum())
    if not len(keep):
        return bad, None, data_lines
    if len(keep) < len(codes):
        byte_line = np.repeat(np.arange(len(codes)), ends - starts + 1)
        buf = buf[good[byte_line]]
        block = buf.tobytes()
        delims = np.flatnonzero((buf == sep_byte) | (buf == NEWLINE))
    keys, starts, lengths = cell_keys(buf, block, delims, len(keep))
    labels = (buf[starts[:, 0]] == ONE).astype(np.float32)
    index = (phys + keep - skip).astype(np.int64)
    return bad, Chunk(labels, keys[1:], index, block, starts[:, 1:], lengths[:, 1:]), data_lines


def read_chunks(path, fmt=CriteoFormat(), report=None, strict=False,
                chunk_bytes=DEFAULT_CHUNK_BYTES):
    """Yield a ``Chunk`` per block of ``path``, in order; bad lines go to ``report``.

    A worker thread validates and keys the next block while the caller
    encodes this one (numpy releases the GIL), so two cores are used.
    """
    path = os.fspath(path)
    report = report if report is not None else SkipReport(path)
    skip = 1 if fmt.header else 0  # physical lines before the first data line
    phys = 0  # 0-based physical line number of the next block's first line
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = deque()
        for block in _blocks(path, chunk_bytes):
            pending.append(pool.submit(_prepare, block, fmt.sep, phys, skip))
            phys += block.count(b"\n")
            if len(pending) > 1:
                yield from _emit(pending.popleft().result(), report, strict, path)
        while pending:
            yield from _emit(pending.popleft().result(), report, strict, path)


def _emit(prepared, report, strict, path):
    bad, chunk, data_lines = prepared
    report.total_lines += data_lines
    for line_no, reason in bad:
        if strict:
            raise DataFormatError(path, line_no, reason, EXPECTED)
        report.add(line_no, reason)
    if chunk is not None:
        yield chunk

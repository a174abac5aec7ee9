"""Streams a Criteo file as chunks of parsed lines, checking every line.

Everything works on the raw bytes with numpy, without a Python string per
cell (pandas' tokenizer makes one per cell and caps the rate near 50k
rows/sec): the shared splitter (data/cells.py) finds every separator and newline,
lines are validated by counting separators per line and checking the label
byte; each cell becomes a 64-bit key, its bytes packed little-endian when it
has at most 8 (every Criteo token and almost every integer), else a SipHash
of its text with the top bit set. Memory is one chunk of bytes plus its
keys, whatever the file size. Bad lines (wrong column count, blank, label not 0/1)
are counted in a ``SkipReport`` with their line numbers, or raise with
``strict=True``; they are never dropped silently.
"""
import dataclasses
import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ...errors import DataFormatError
from ..cells import Cells, find_delimiters, line_bounds, split_cells
from ..reader import SkipReport
from ..tokens import long_text_keys
from .format import NUM_COLUMNS, CriteoFormat

DEFAULT_CHUNK_BYTES = 8 << 20
ZERO, ONE = ord("0"), ord("1")
EXPECTED = f"label (0 or 1) then 39 separated values ({NUM_COLUMNS} columns)"


@dataclasses.dataclass
class Chunk:
    """Valid lines of one block: labels (n,) float32, ``keys`` (39, n) uint64
    (I1..C26, one row per field; 0 is the empty cell), each line's 0-based
    data-line index (header excluded), and the block's ``Cells`` (for the
    few cells whose text is needed)."""

    labels: np.ndarray
    keys: np.ndarray
    line_index: np.ndarray
    cells: Cells

    def texts(self, field, rows):
        """The text of ``field`` (0 = I1) in ``rows``."""
        return self.cells.texts(rows, field + 1)


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


def _line_problems(buf, delims, sep_byte):
    """(starts, ends, reason code per line, separators per line); codes:
    0 ok, 1 blank, 2 column count, 3 label."""
    starts, ends, seps_per_line = line_bounds(buf, delims)
    codes = np.zeros(len(ends), dtype=np.int8)
    codes[seps_per_line != NUM_COLUMNS - 1] = 2
    first = buf[np.minimum(starts, len(buf) - 1)]
    second = buf[np.minimum(starts + 1, len(buf) - 1)]
    bad_label = ~(((first == ZERO) | (first == ONE)) & (second == sep_byte))
    codes[(codes == 0) & bad_label] = 3
    codes[ends == starts] = 1
    return starts, ends, codes, seps_per_line


def _reason(block, start, end, code, seps, sep):
    if code == 1:
        return "blank line"
    if code == 2:
        return f"{seps + 1} columns"
    label = block[start:end].decode("utf-8", errors="replace").split(sep, 1)[0]
    return f"label {label[:20]!r}"


def cell_keys(cells):
    """Keys (39, n) uint64, field-major (label column excluded): a cell of at
    most 8 bytes is its bytes packed little-endian; a longer one is a hash of
    its text with the top bit set (data/tokens.py, docs/encoder.md)."""
    count = len(cells.starts)
    lengths = cells.lengths.ravel()
    keys = cells.words(cells.starts.ravel(), lengths, byteorder="<")  # in file order: cache-friendly
    long_cells = np.flatnonzero(lengths > 8)
    if len(long_cells):
        rows, cols = np.divmod(long_cells, NUM_COLUMNS)
        keys[long_cells] = long_text_keys(cells.texts_at(rows, cols))
    return keys.reshape(count, NUM_COLUMNS)[:, 1:].T.copy()


def _prepare(block, sep, phys, skip):
    """Validate and key one block: ([(line number, reason)], Chunk or None, data lines).
    Pure numpy on its own block, so it can run in a worker thread."""
    sep_byte = ord(sep)
    if b"\r" in block:
        block = block.replace(b"\r\n", b"\n")
    buf = np.frombuffer(block, dtype=np.uint8)
    delims = find_delimiters(buf, sep_byte)
    starts, ends, codes, seps = _line_problems(buf, delims, sep_byte)
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
        delims = None
    cells = split_cells(buf, NUM_COLUMNS, len(keep), sep_byte, delims)
    if cells is None:  # cannot happen for validated lines
        raise DataFormatError("<chunk>", None, "validated lines that do not split into cells")
    labels = (buf[cells.starts[:, 0]] == ONE).astype(np.float32)
    index = (phys + keep - skip).astype(np.int64)
    return bad, Chunk(labels, cell_keys(cells), index, cells), data_lines


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

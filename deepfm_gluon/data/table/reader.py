"""Streams a CTR table (Criteo, Avazu, any CSV) as chunks of parsed lines,
checking every line; training's cache and raw-line scoring both read here.

Everything works on the raw bytes with numpy, without a Python string per
cell (pandas' tokenizer makes one per cell and caps the rate near 50k
rows/sec): the shared splitter (data/cells.py) finds every separator and
newline (only LF ends a line: a CR inside a cell is part of it, a CRLF end
is read as LF), lines are validated by counting separators per line and
checking the label cell (one byte, 0 or 1); each used cell becomes a 64-bit
key, its bytes packed little-endian when it has at most 8 (every Criteo
token and almost every integer), else a SipHash of its bytes with the top
bit set. Memory is one chunk of bytes plus its keys, whatever the file size.
Bad lines (wrong column count, blank, label not 0/1) are counted in a
``SkipReport`` with their line numbers, or raise with ``strict=True``; they
are never dropped silently.
"""
import dataclasses
import io
import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Optional

import numpy as np

from ...errors import DataFormatError
from ..cells import Cells, find_delimiters, line_bounds, split_cells
from ..reader import SkipReport
from ..tokens import cell_text, long_text_keys
from .schema import Layout

DEFAULT_CHUNK_BYTES = 8 << 20
ZERO, ONE = ord("0"), ord("1")


def expected(layout):
    label = "a 0/1 label and " if layout.label is not None else ""
    return f"{label}{layout.num_columns} {layout.sep!r}-separated columns in all"


@dataclasses.dataclass
class Chunk:
    """The lines of one block: ``labels`` (n,) float32 of the valid ones (None
    without a label column), ``keys`` (num_fields, n) uint64 (0 is the empty
    cell), each valid line's 0-based data-line index (header excluded), the
    block's first data-line index and data-line count, its ``Cells`` (for the
    few cells whose text is needed) and the ``layout``."""

    labels: Optional[np.ndarray]
    keys: np.ndarray
    line_index: np.ndarray
    first_line: int
    data_lines: int
    cells: Optional[Cells]
    layout: Layout

    def __len__(self):
        return len(self.line_index)

    def texts(self, field, rows):
        """The text of ``field`` (0-based, a model field) in ``rows``."""
        return self.cells.texts(rows, self.layout.field_columns[field])


def _byte_blocks(source, chunk_bytes):
    """Byte blocks that each end with a complete line (a final newline added).
    ``source``: a path, or the bytes themselves (a pipe read once)."""
    with (io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")) as f:
        rest, block = b"", f.read(chunk_bytes)
        while block:
            following = f.read(chunk_bytes)
            block = rest + block
            if not following:  # the last block: its last line, newline or not, goes with it
                yield block if block.endswith(b"\n") else block + b"\n"
                return
            cut = block.rfind(b"\n")
            rest = block[cut + 1:]
            if cut >= 0:
                yield block[:cut + 1]
            block = following


def _blocks(source, chunk_bytes, chunk_lines=None):
    """``_byte_blocks``, each cut into pieces of at most ``chunk_lines`` lines."""
    for block in _byte_blocks(source, chunk_bytes):
        if not chunk_lines:
            yield block
            continue
        ends = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 10)
        start = 0
        for end in ends[chunk_lines - 1::chunk_lines].tolist() + ([int(ends[-1])] if len(ends) % chunk_lines else []):
            yield block[start:end + 1]
            start = end + 1


def line_widths(source, sep, chunk_bytes=DEFAULT_CHUNK_BYTES, skip=0):
    """{columns: lines} over the whole input (blank lines left out): what
    decides, by majority, whether a headerless file has its label column."""
    counts = {}
    sep_byte, seen = ord(sep), 0
    for block in _byte_blocks(source, chunk_bytes):
        buf = np.frombuffer(block, dtype=np.uint8)
        starts, ends, seps = line_bounds(buf, find_delimiters(buf, sep_byte))
        widths = (seps + 1)[ends > starts][max(0, skip - seen):]
        seen += len(ends)
        for width, n in zip(*np.unique(widths, return_counts=True)):
            counts[int(width)] = counts.get(int(width), 0) + int(n)
    return counts


def cell_keys(cells, field_columns):
    """Keys (num_fields, n) uint64 of the field columns: a cell of at most 8
    bytes is its bytes packed little-endian; a longer one is a hash of its
    bytes with the top bit set (data/tokens.py, docs/encoder.md)."""
    count, width = cells.starts.shape
    keys = cells.words(cells.starts.ravel(), cells.lengths.ravel(), byteorder="<").reshape(count, width)
    used = np.zeros(width, dtype=bool)
    used[list(field_columns)] = True
    rows, cols = np.nonzero((cells.lengths > 8) & used)
    if len(rows):
        keys[rows, cols] = long_text_keys(cells.bytes_at(rows, cols))
    return keys[:, list(field_columns)].T.copy()


def _prepare(block, layout, phys, skip):
    """Validate and key one block: ([(line number, reason)], Chunk, data lines,
    first data line). Pure numpy on its own block, so it runs in a worker thread."""
    sep_byte = ord(layout.sep)
    if b"\r" in block:
        block = block.replace(b"\r\n", b"\n")
    buf = np.frombuffer(block, dtype=np.uint8)
    delims = find_delimiters(buf, sep_byte)
    starts, ends, seps = line_bounds(buf, delims)
    codes = np.zeros(len(ends), dtype=np.int8)  # 0 ok, 1 blank, 2 column count, 3 label, -1 header
    codes[seps != layout.num_columns - 1] = 2
    codes[ends == starts] = 1
    if phys < skip:
        codes[:skip - phys] = -1
    reasons = {}
    sized = np.flatnonzero(codes == 0)
    cells = None
    if len(sized):
        if len(sized) < len(codes):
            keep = np.zeros(len(codes), dtype=bool)
            keep[sized] = True
            buf = buf[keep[np.repeat(np.arange(len(codes)), ends - starts + 1)]]
            delims = None
        cells = split_cells(buf, layout.num_columns, len(sized), sep_byte, delims)
        if cells is None:  # cannot happen for lines of the right width
            raise DataFormatError("<chunk>", None, "validated lines that do not split into cells")
        if layout.label is not None:
            first = buf[np.minimum(cells.starts[:, layout.label], len(buf) - 1)]
            good = (cells.lengths[:, layout.label] == 1) & ((first == ZERO) | (first == ONE))
            for row in np.flatnonzero(~good)[:MAX_LABEL_TEXTS].tolist():
                reasons[int(sized[row])] = f"label {cell_text(cells.bytes_at([row], layout.label)[0])[:20]!r}"
            codes[sized[~good]] = 3
            sized, cells = sized[good], cells.take(good)
    bad = [(phys + i + 1, reasons.get(i) or _reason(codes[i], seps[i]))
           for i in np.flatnonzero(codes > 0).tolist()]
    first_line = max(phys - skip, 0)
    data_lines = int((codes >= 0).sum())
    index = (phys + sized - skip).astype(np.int64)
    labels = None
    if layout.label is not None:
        labels = (buf[cells.starts[:, layout.label]] == ONE).astype(np.float32) if len(sized) else \
            np.zeros(0, np.float32)
    keys = cell_keys(cells, layout.field_columns) if len(sized) else \
        np.zeros((len(layout.field_columns), 0), np.uint64)
    return bad, Chunk(labels, keys, index, first_line, data_lines, cells, layout)


MAX_LABEL_TEXTS = 1000  # bad labels named per block; others say "label" alone


def _reason(code, seps):
    return {1: "blank line", 2: f"{seps + 1} columns", 3: "label"}[int(code)]


def read_chunks(source, layout, report=None, strict=False, chunk_bytes=DEFAULT_CHUNK_BYTES,
                chunk_lines=None, name=None):
    """Yield a ``Chunk`` per block of ``source`` (a path, or bytes), in order,
    blocks without a valid line included; bad lines go to ``report``.

    A worker thread validates and keys the next block while the caller
    encodes this one (numpy releases the GIL), so two cores are used.
    """
    name = name or (os.fspath(source) if not isinstance(source, bytes) else "-")
    report = report if report is not None else SkipReport(name)
    skip = 1 if layout.header else 0  # physical lines before the first data line
    phys = 0  # 0-based physical line number of the next block's first line
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = deque()
        for block in _blocks(source, chunk_bytes, chunk_lines):
            pending.append(pool.submit(_prepare, block, layout, phys, skip))
            phys += block.count(b"\n")
            if len(pending) > 1:
                yield _emit(pending.popleft().result(), report, strict, name, layout)
        while pending:
            yield _emit(pending.popleft().result(), report, strict, name, layout)


def _emit(prepared, report, strict, path, layout):
    bad, chunk = prepared
    report.total_lines += chunk.data_lines
    for line_no, reason in bad:
        if strict:
            raise DataFormatError(path, line_no, reason, expected(layout))
        report.add(line_no, reason)
    return chunk

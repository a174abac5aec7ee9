"""The byte-level cell splitter both text readers use (d2l format and Criteo).

Making one Python string per cell is what bounds a text reader's speed (35
million strings for a million 35-column lines). Here a block of bytes is cut
into cells with numpy alone: one ``flatnonzero`` finds every separator and
newline, and each cell is described by its start and length. A cell's first
8 bytes load as one unsigned 64-bit word (zero-padded), so a column of short
cells becomes an integer array that hashes and sorts without any string:

- ``byteorder=">"`` (big-endian): integer order is the cells' byte order,
  which for ASCII is string order (the d2l path numbers values in sorted
  order from these words);
- ``byteorder="<"`` (little-endian): the word's bytes in memory are the
  cell's bytes, so ``word.view("S8")`` is the cell's text again (the Criteo
  keys; see docs/encoder.md).

Cells longer than 8 bytes need their text (``texts``) or the fixed-width
byte matrix (``fixed_width``).
"""
import numpy as np

from .tokens import cell_text

TAB, LF, CR = 9, 10, 13
_INT32_SAFE = 2**31 - 16


def find_delimiters(buf, sep_byte):
    """Positions (int64) of every ``sep_byte`` and newline in ``buf`` (uint8)."""
    return np.flatnonzero((buf == sep_byte) | (buf == LF))


def line_bounds(buf, delims):
    """(starts, ends, separators per line) of the LF-terminated lines of ``buf``:
    ``buf[starts[i]:ends[i]]`` is line i without its newline."""
    is_end = np.flatnonzero(buf[delims] == LF)
    ends = delims[is_end]
    starts = np.empty_like(ends)
    if len(ends):
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
    return starts, ends, np.diff(is_end, prepend=-1) - 1


class Cells:
    """The cells of lines that each have ``num_cols`` cells: ``starts`` and
    ``lengths``, both (num_lines, num_cols), index ``buf`` (uint8)."""

    def __init__(self, buf, starts, lengths):
        self.buf, self.starts, self.lengths = buf, starts, lengths
        self._padded = None

    def words(self, starts, lengths, byteorder="<"):
        """uint64 word per cell: its first 8 bytes, bytes past the cell zeroed."""
        if self._padded is None:  # one copy, so an 8-byte read never runs past the end
            self._padded = np.concatenate([self.buf, np.zeros(8, dtype=np.uint8)])
        at = np.ndarray(shape=(len(self.buf),), dtype=byteorder + "u8", buffer=self._padded,
                        strides=(1,))
        keep = _LITTLE_MASKS if byteorder == "<" else _BIG_MASKS
        return at[starts].astype(np.uint64) & keep[np.minimum(lengths, 8)]

    def column_words(self, col, byteorder="<"):
        """uint64 (num_lines,) word per cell of column ``col`` (see ``words``)."""
        return self.words(self.starts[:, col], self.lengths[:, col], byteorder)

    def texts(self, rows, col):
        """Text (object array of str) of column ``col`` in ``rows``; bytes that
        are not UTF-8 are kept (``tokens.cell_text``: nothing is replaced)."""
        return self.texts_at(rows, col)

    def texts_at(self, rows, cols):
        """Text of the cells (rows[i], cols[i]); ``cols`` may be one column."""
        return np.array([cell_text(b) for b in self.bytes_at(rows, cols)], dtype=object)

    def bytes_at(self, rows, cols):
        """The bytes (object array of bytes) of the cells (rows[i], cols[i])."""
        raw = self.buf.data
        return np.array([bytes(raw[s:s + n]) for s, n in zip(self.starts[rows, cols], self.lengths[rows, cols])],
                        dtype=object)

    def take(self, rows):
        """The cells of ``rows`` only (the same bytes)."""
        return Cells(self.buf, self.starts[rows], self.lengths[rows])

    def fixed_width(self, col):
        """Column ``col`` as ``S<width>`` byte strings (zero-padded to the longest)."""
        starts, lengths = self.starts[:, col], self.lengths[:, col]
        width = max(int(lengths.max()), 1)
        offsets = np.arange(width)
        index = np.minimum(starts[:, None] + offsets, len(self.buf) - 1)
        cells = np.where(offsets < lengths[:, None], self.buf[index], 0).astype(np.uint8)
        return np.ascontiguousarray(cells).view(f"S{width}").ravel()


_LITTLE_MASKS = np.array([(1 << (8 * n)) - 1 for n in range(8)] + [2**64 - 1], dtype=np.uint64)
_BIG_MASKS = np.array([~np.uint64(0) << np.uint64(8 * (8 - n)) if n else 0 for n in range(8)]
                      + [~np.uint64(0)], dtype=np.uint64)


def split_cells(buf, num_cols, num_lines, sep_byte=TAB, delims=None):
    """``Cells`` of ``buf`` (uint8, ``num_lines`` LF-terminated lines), or None
    when some line does not have exactly ``num_cols`` cells. ``delims``: from
    ``find_delimiters``, when the caller already has them."""
    if delims is None:
        delims = find_delimiters(buf, sep_byte)
    if not num_lines or len(delims) != num_lines * num_cols:
        return None
    if len(buf) < _INT32_SAFE:  # halves the index arrays, the largest ones here
        delims = delims.astype(np.int32)
    ends = delims.reshape(-1, num_cols)
    # num_lines newlines in all, each the last delimiter of its row: every line has num_cols cells
    if not (buf[ends[:, -1]] == LF).all():
        return None
    starts = np.empty_like(ends)
    starts.ravel()[0] = 0
    starts.ravel()[1:] = ends.ravel()[:-1] + 1
    return Cells(buf, starts, ends - starts)

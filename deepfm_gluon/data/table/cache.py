"""Encode a table file (Criteo, Avazu, CSV) once into .npy arrays on disk;
later runs memory-map them.

The cache folder is keyed by the source file's absolute path, size and mtime
and by every option that changes the encoding, so an edited file or another
threshold gets a fresh cache, and an unchanged one is reused. A folder is
built under a temporary name and renamed when complete, so a crash leaves no
half cache that looks finished.

Memory while building: one chunk of text plus the encoder (the distinct
values per field, or nothing when hashing). Rows go to disk with plain
writes, not through a writable memmap, so resident memory does not grow
with the file.
"""
import dataclasses
import hashlib
import json
import os
import shutil
import struct
import tempfile
import time
from typing import Optional

import numpy as np

from ...atomic import atomic_write_json
from ...errors import DataFormatError, DeepFMError
from ..reader import SkipReport
from .encode import StreamingHashing, StreamingVocabulary
from .reader import DEFAULT_CHUNK_BYTES, expected, read_chunks
from .schema import Layout, Schema, read_first_line

# 2: encoder.json (data/encoders.py) replaces vocab.json; 3: the schema is data
# (encoder.json's "table"), long cells hash their bytes (not U+FFFD-replaced text)
CACHE_VERSION = 3
ENCODER_FILE = "encoder.json"
HEADER_BYTES = 128
REMAP_ROWS = 1 << 18
LOG_EVERY = 2_000_000  # rows between progress lines while building


@dataclasses.dataclass(frozen=True)
class TableOptions:
    """How to read and encode: the source's ``schema`` (its ``sep``/``header``
    None: decided from line 1), and ``sep``/``header`` given here override it.
    ``hash_buckets`` 0: the book's vocabulary with ``min_threshold``; > 0:
    feature hashing into that many rows per field. The last ``test_fraction``
    of the data lines (in file order) is the hold-out set."""

    schema: Optional[Schema] = None
    sep: Optional[str] = None
    header: Optional[bool] = None
    min_threshold: int = 4
    hash_buckets: int = 0
    test_fraction: float = 0.1
    chunk_bytes: int = DEFAULT_CHUNK_BYTES
    strict: bool = False

    def encoding_key(self):
        """The options that change the bytes of the cache."""
        return {"schema": self.full_schema().to_dict(), "transforms": self.schema.transforms,
                "min_threshold": self.min_threshold, "hash_buckets": self.hash_buckets,
                "test_fraction": self.test_fraction}

    def full_schema(self):
        """The schema with this run's ``sep``/``header`` overrides applied."""
        if self.schema is None:
            raise DeepFMError("table options without a schema (say which data source)")
        return dataclasses.replace(self.schema, sep=self.sep or self.schema.sep,
                                   header=self.schema.header if self.header is None else self.header)


def cache_key(path, options):
    st = os.stat(path)
    source = {"path": os.path.abspath(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns,
              "version": CACHE_VERSION, **options.encoding_key()}
    digest = hashlib.sha1(json.dumps(source, sort_keys=True).encode()).hexdigest()[:16]
    return f"{options.schema.source}-{os.path.basename(path)}-{digest}", source


def _npy_header(dtype, shape):
    """A .npy v1.0 header padded to HEADER_BYTES, so it can be rewritten in place."""
    text = f"{{'descr': '{np.dtype(dtype).str}', 'fortran_order': False, 'shape': {shape!r}, }}"
    body_len = HEADER_BYTES - 10
    if len(text) + 1 > body_len:
        raise DeepFMError(f"shape {shape} too large for the cache header")
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", body_len) + (text.ljust(body_len - 1) + "\n").encode()


class NpyAppender:
    """Append rows to a .npy file; the header gets the final row count on close."""

    def __init__(self, path, dtype, width=None):
        self.path, self.dtype, self.width, self.rows = path, np.dtype(dtype), width, 0
        self.file = open(path, "wb")
        self.file.write(_npy_header(self.dtype, self._shape(0)))

    def _shape(self, rows):
        return (rows,) if self.width is None else (rows, self.width)

    def append(self, array):
        self.file.write(np.ascontiguousarray(array, dtype=self.dtype).tobytes())
        self.rows += len(array)

    def close(self):
        self.file.seek(0)
        self.file.write(_npy_header(self.dtype, self._shape(self.rows)))
        self.file.close()


@dataclasses.dataclass(frozen=True)
class Layout:
    """Where the hold-out starts: the file's layout, its data lines (header
    excluded) and how many of them, in file order, form the training part.
    Known only after the one reading pass (the line count is its by-product)."""

    fmt: Layout
    data_lines: int
    num_train_lines: int


def split_layout(fmt, data_lines, options):
    """The train/test cut: the last ``round(test_fraction * lines)`` data lines are the hold-out."""
    return Layout(fmt, data_lines, data_lines - int(round(data_lines * options.test_fraction)))


class RowLines:
    """Which data line each written row came from, in little memory: per chunk
    its first row, first and last line; the line numbers themselves only for
    chunks with malformed lines in them (their rows are not consecutive lines)."""

    def __init__(self):
        self.chunks = []  # (first row, first line, last line, line index array or None)

    def add(self, first_row, line_index):
        first, last = int(line_index[0]), int(line_index[-1])
        gaps = last - first + 1 != len(line_index)
        self.chunks.append((first_row, first, last, (line_index - first).astype(np.int32) if gaps else None))

    def rows_before(self, line):
        """How many rows came from data lines < ``line`` (0-based)."""
        rows = 0
        for first_row, first, last, index in self.chunks:
            if last < line:
                rows = first_row + (last - first + 1 if index is None else len(index))
            elif first < line:
                return first_row + (line - first if index is None
                                    else int(np.searchsorted(index, line - first)))
            else:
                break
        return rows


@dataclasses.dataclass
class EncodedRows:
    """What the encoding pass wrote: rows in features.npy/labels.npy, the data
    lines read (header excluded), where the rows came from, and the lines it
    skipped. ``num_train`` is set once the cut is known."""

    path: str
    rows: int
    data_lines: int
    row_lines: RowLines
    report: SkipReport
    num_train: int = 0


def streaming_encoder(options):
    """Step 2a: the encoder the encoding pass fits (vocabulary or hashing)."""
    if options.hash_buckets:
        return StreamingHashing(options.full_schema(), options.hash_buckets)
    return StreamingVocabulary(options.full_schema(), options.min_threshold)


def encode_rows(path, fmt, encoder, folder, options, log=None):
    """Step 2b, reading and encoding: the one pass over ``path``. Appends each
    chunk's indices (raw ids for a vocabulary) to features.npy and its labels
    to labels.npy; every row is counted (the hold-out's counts are taken back
    by ``uncount_holdout`` once the cut is known); returns ``EncodedRows``."""
    start = time.perf_counter()
    report = SkipReport(str(path))
    num_fields = len(fmt.field_columns)
    features = NpyAppender(os.path.join(folder, "features.npy"), np.int32, num_fields)
    labels = NpyAppender(os.path.join(folder, "labels.npy"), np.float32)
    row_lines = RowLines()
    try:
        for chunk in read_chunks(path, fmt, report, options.strict, options.chunk_bytes):
            if not len(chunk):
                continue
            row_lines.add(features.rows, chunk.line_index)
            block = np.empty((num_fields, len(chunk.labels)), dtype=np.int32)  # field-major
            for f in range(num_fields):
                block[f] = encoder.observe(chunk, f, len(chunk.labels))
            features.append(block.T)
            labels.append(chunk.labels)
            if log is not None and features.rows // LOG_EVERY != (features.rows - len(chunk.labels)) // LOG_EVERY:
                log(f"{options.schema.source}: {features.rows} rows encoded, {time.perf_counter() - start:.0f}s")
    finally:
        features.close()
        labels.close()
    if not features.rows:
        raise DataFormatError(path, None, f"no valid line among {report.total_lines} "
                              f"({report.summary()})", expected(fmt))
    return EncodedRows(features.path, features.rows, report.total_lines, row_lines, report)


def uncount_holdout(rows, encoder):
    """Step 2c: the vocabulary counts training rows only, so the hold-out
    rows' raw ids are read back from features.npy (binary, 10% of the rows,
    a block at a time; the text is not read again) and uncounted."""
    if not hasattr(encoder, "uncount"):
        return
    width = len(encoder.schema.fields)
    row_bytes = width * np.dtype(np.int32).itemsize
    with open(rows.path, "rb") as f:
        for start in range(rows.num_train, rows.rows, REMAP_ROWS):
            count = min(REMAP_ROWS, rows.rows - start)
            f.seek(HEADER_BYTES + start * row_bytes)
            raw = np.fromfile(f, dtype=np.int32, count=count * width).reshape(count, width)
            for field in range(width):
                encoder.uncount(field, raw[:, field])


def remap_features(rows, lookups, offsets):
    """Step 3, remapping: features[:, f] = lookups[f][raw id] + offsets[f] in
    features.npy, a block of rows at a time, through one concatenated lookup
    table (one gather per block, not per column). No-op when ``lookups`` is
    None (hashing wrote final indices)."""
    if lookups is None:
        return
    dtype = np.int32
    width = len(offsets)
    bases = np.concatenate([[0], np.cumsum([len(t) for t in lookups])[:-1]]).astype(dtype)
    table = np.concatenate([t.astype(np.int64) + o for t, o in zip(lookups, offsets)]).astype(dtype)
    row_bytes = width * np.dtype(dtype).itemsize
    with open(rows.path, "r+b") as f:
        for start in range(0, rows.rows, REMAP_ROWS):
            count = min(REMAP_ROWS, rows.rows - start)
            f.seek(HEADER_BYTES + start * row_bytes)
            raw = np.fromfile(f, dtype=dtype, count=count * width).reshape(count, width)
            raw += bases
            f.seek(HEADER_BYTES + start * row_bytes)
            f.write(table.take(raw).tobytes())


def cache_meta(layout, encoder, rows, seconds):
    """Step 5, metadata: what meta.json records about the build."""
    return {"version": CACHE_VERSION, "source": encoder.table.source,
            "encoding": "hash" if encoder.kind == "hashing" else "vocab",
            "sep": layout.fmt.sep, "header": layout.fmt.header, "num_rows": rows.rows,
            "num_train": rows.num_train, "data_lines": layout.data_lines,
            "num_train_lines": layout.num_train_lines, "field_dims": encoder.field_dims.tolist(),
            "skip_report": rows.report.to_dict(), "build_seconds": seconds,
            "rows_per_sec": rows.rows / max(seconds, 1e-9)}


def build_cache(path, folder, options, log=None):
    """Read ``path`` once and write features.npy, labels.npy and encoder.json
    into ``folder``; returns the meta dict (the caller writes meta.json)."""
    start = time.perf_counter()
    fmt = options.full_schema().resolve(path, read_first_line(path))  # step 1: line 1 only
    if options.schema.columns is None:  # the header's names (or numbers): scoring a body without a header needs them
        options = dataclasses.replace(options, schema=dataclasses.replace(options.schema, columns=fmt.names))
    streaming = streaming_encoder(options)
    rows = encode_rows(path, fmt, streaming, folder, options, log)
    layout = split_layout(fmt, rows.data_lines, options)
    rows.num_train = rows.row_lines.rows_before(layout.num_train_lines)
    uncount_holdout(rows, streaming)
    encoder = streaming.finish()  # step 4, vocabulary: kept tokens numbered
    remap_features(rows, streaming.lookups(), encoder.offsets)
    encoder.save(os.path.join(folder, ENCODER_FILE))  # step 6, writing (the folder is renamed when done)
    return cache_meta(layout, encoder, rows, time.perf_counter() - start)


def _check_strict(path, meta, options):
    """A cache built leniently still answers a strict read: with its first bad line."""
    report = meta["skip_report"]
    if options.strict and report["skipped"]:
        line, reason = report["examples"][0]
        raise DataFormatError(path, line, reason, options.full_schema().expected())


def open_cache(path, cache_dir, options, log=None):
    """The cache folder for ``path`` (built now if absent) and its meta dict."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DeepFMError(f"{path}: no such file" if not os.path.exists(path)
                          else f"{path}: not a regular file")
    name, source = cache_key(path, options)
    folder = os.path.join(cache_dir, name)
    meta_path = os.path.join(folder, "meta.json")
    if os.path.exists(meta_path):
        with open(meta_path) as f:
            meta = json.load(f)
        _check_strict(path, meta, options)
        return folder, meta
    os.makedirs(cache_dir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{name}.", dir=cache_dir)
    try:
        meta = build_cache(path, tmp, options, log)
        meta["key"] = source
        atomic_write_json(os.path.join(tmp, "meta.json"), meta)
        try:
            os.replace(tmp, folder)
        except OSError:  # another process finished the same cache first
            if not os.path.exists(meta_path):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    with open(meta_path) as f:
        return folder, json.load(f)

"""Scoring raw lines of a table source (Criteo, Avazu, a CSV with a schema)
with a model trained on it, in bounded memory, reading lines exactly as
training did.

A table model's encoder.json holds the table's schema (which column is the
label, which columns become which fields with which transform) beside the
vocabulary or hashing spec, so raw lines encode exactly as the training cache
did: the same byte-level reader (data/table/reader.py: one cell splitter,
only LF ends a line, a CR inside a cell is part of it) and the same bytes
hashed or looked up (no decoding that replaces bytes). Model folders written
before the schema was saved, with Criteo's 39 fields, read as Criteo.

Files are read ``chunk_lines`` lines at a time; each chunk is split,
encoded, scored and written before the next is read, so memory is one chunk
whatever the file size (``evaluate`` also keeps one label and one
probability per line, which AUC needs). Stdin and pipes are read once.

Layout, decided over the whole input as training decides it: line 1 is a
header when it names the columns; otherwise whether lines carry the label
column is what most lines say (their column count), as for d2l-format files
(data/reader.py). Output row i is input data line i: a malformed line (wrong
column count, blank, a label other than 0/1) gets its own NaN row and is
counted in the skip report, never dropped.
"""
import os

import numpy as np

from ..data.criteo.format import CRITEO, FIELD_NAMES
from ..data.reader import MAX_MINORITY_SHARE, SkipReport, read_raw_bytes
from ..data.table.schema import read_first_line
from ..errors import DataFormatError
from ..training.metrics import score

CHUNK_LINES = 65536


def table_schema(encoder):
    """The table schema a model reads raw lines of: its encoder's; for model
    folders written before the schema was saved, Criteo's when the fields
    are Criteo's 39. None: a d2l-format model."""
    if getattr(encoder, "table", None) is not None:
        return encoder.table
    return CRITEO if list(encoder.field_names) == FIELD_NAMES else None


def _input(path):
    """(what the reader reads: the path of a regular file, else the bytes
    read once, line 1 as bytes)."""
    if os.path.isfile(path):
        return path, read_first_line(path)
    data = read_raw_bytes(path)
    if not data:
        raise DataFormatError(path, None, "the file is empty", "CTR lines")
    return data, data.split(b"\n", 1)[0]


def scoring_layout(schema, path, source, first_line):
    """The ``Layout`` of an input to score: a header decides by its names;
    otherwise the label column is there when most lines have the full
    column count (a minority layout over 10% is refused as ambiguous)."""
    from ..data.table.reader import line_widths  # start-up: table models only

    layout = schema.resolve(path, first_line, need_label=False)
    if layout.header or layout.label is None:
        return layout
    widths = line_widths(source, layout.sep)
    labelled, bare = widths.get(layout.num_columns, 0), widths.get(layout.num_columns - 1, 0)
    if min(labelled, bare) > MAX_MINORITY_SHARE * (labelled + bare):
        raise DataFormatError(path, None, f"cannot tell whether there is a label column: {labelled} lines "
                              f"have {layout.num_columns} columns and {bare} have {layout.num_columns - 1}",
                              "one layout for the whole file")
    return layout if labelled >= bare else layout.without_label()


def score_chunks(predictor, path, strict=False, chunk_lines=CHUNK_LINES, report=None):
    """Yield (probabilities float64 (n,), labels float32 (n,) or None) per chunk
    of at most ``chunk_lines`` data lines, in file order: row i of the
    concatenation is data line i (header excluded); malformed lines are NaN
    (and NaN labels)."""
    from ..data.table.encode import encode_chunk  # start-up: table models only (pandas)
    from ..data.table.reader import read_chunks

    path = os.fspath(path)
    source, first_line = _input(path)
    layout = scoring_layout(predictor.table, path, source, first_line)
    report = report if report is not None else SkipReport(path)
    for chunk in read_chunks(source, layout, report, strict, chunk_lines=chunk_lines, name=path):
        probs = np.full(chunk.data_lines, np.nan)
        rows = chunk.line_index - chunk.first_line
        if len(chunk):
            probs[rows] = predictor.predict_features(encode_chunk(predictor.encoder, chunk))
        labels = None
        if chunk.labels is not None:
            labels = np.full(chunk.data_lines, np.nan, dtype=np.float32)
            labels[rows] = chunk.labels
        yield probs, labels


def table_rows(schema, text):
    """Rows of field values (lists of str) of raw lines of a table model's
    format, as a request body sends them (a header line naming the columns
    is skipped; each line with or without the label column): each line's
    cells placed by the schema, so an Avazu line's ``hour`` feeds both its
    fields. ValueError naming the first line that does not fit."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    if not lines:
        return []
    if schema.columns is None:
        raise ValueError(f"this {schema.source} model does not know its columns; send JSON rows of "
                         f"{len(schema.fields)} field values")
    full = schema.resolve("the request", lines[0].encode("utf-8", "surrogateescape"), need_label=False)
    bare = full.without_label()
    rows = []
    for i, line in enumerate(lines[1:] if full.header else lines, start=2 if full.header else 1):
        cells = line.split(full.sep)
        layout = full if len(cells) == full.num_columns else bare if len(cells) == bare.num_columns else None
        if layout is None:
            expected = f"{full.num_columns}" + (f" (or {bare.num_columns} without {schema.label!r})"
                                                if full.label is not None else "")
            raise ValueError(f"line {i}: {len(cells)} {full.sep!r}-separated columns; expected {expected}")
        if layout.label is not None and cells[layout.label] not in ("0", "1"):
            raise ValueError(f"line {i}: label {cells[layout.label][:20]!r}; expected 0 or 1 (or no label column)")
        rows.append([cells[c] for c in layout.field_columns])
    return rows


def predict_table_file(predictor, path, out_file, strict=False, chunk_lines=CHUNK_LINES):
    """Write one probability per data line of ``path`` to the open text file
    ``out_file`` (``nan`` for a malformed line); returns (lines, SkipReport)."""
    report = SkipReport(str(path))
    lines = 0
    for probs, _ in score_chunks(predictor, path, strict, chunk_lines, report):
        np.savetxt(out_file, probs, fmt="%.8f")
        lines += len(probs)
    return lines, report


def evaluate_table_file(predictor, path, strict=False, chunk_lines=CHUNK_LINES):
    """Every metric of ``training.metrics.METRICS`` and the skipped lines of a
    labelled file of the model's table format."""
    report = SkipReport(str(path))
    all_probs, all_labels = [], []
    for probs, labels in score_chunks(predictor, path, strict, chunk_lines, report):
        if labels is None:
            raise DataFormatError(path, None, "no label column",
                                  f"a 0/1 {predictor.table.label!r} column, to evaluate")
        keep = ~np.isnan(probs)
        all_probs.append(probs[keep].astype(np.float32))
        all_labels.append(labels[keep])
    probs = np.concatenate(all_probs) if all_probs else np.empty(0, np.float32)
    labels = np.concatenate(all_labels) if all_labels else np.empty(0, np.float32)
    if not len(labels):
        raise DataFormatError(path, None, f"no valid line ({report.summary()})", predictor.table.expected())
    return {"examples": int(len(labels)), **score(labels, probs),
            "skipped_lines": report.skipped, "skip_report": report.to_dict()}

"""Scoring raw Criteo lines with a Criteo-trained model, in bounded memory.

A Criteo model's directory holds its encoder (encoder.json: the vocabulary
with its defaults, or the hashing spec, each with the ``criteo_integer``
transform of I1..I13), so raw lines encode exactly as the training cache did.
Files are read ``chunk_lines`` lines at a time; each chunk is split,
encoded, scored and written before the next is read, so memory is one chunk
whatever the file size (``evaluate`` also keeps one label and one
probability per line, which AUC needs).

Layouts: Kaggle's train.txt/test.txt (TAB, no header, with or without the
label column) and copies like DeepCTR's sample (comma, a ``label,I1,...``
header). Output row i is input data line i: a malformed line (wrong column
count, blank, a label other than 0/1) gets its own NaN row and is counted in
the skip report, never dropped.
"""
import dataclasses
import itertools

import numpy as np

from ..data.criteo.format import FIELD_NAMES, NUM_FIELDS
from ..data.reader import SkipReport
from ..errors import DataFormatError
from ..training.metrics import score

CHUNK_LINES = 65536
EXPECTED = f"{NUM_FIELDS} values I1..C26, after a 0/1 label or without one"


def is_criteo_model(meta, encoder):
    """A model trained on ``criteo:`` data, or whose encoder has Criteo's 39 fields."""
    return (str(meta.get("data", "")).startswith("criteo:")
            or list(encoder.field_names) == FIELD_NAMES)


@dataclasses.dataclass(frozen=True)
class ScoringLayout:
    """What line 1 says: separator, a header line, and a label column."""

    sep: str
    header: bool
    with_label: bool


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def detect_scoring_layout(path):
    """Separator: TAB if line 1 has one, else comma. Header: line 1 names the
    fields (ends with ``C26``) or starts with a non-numeric cell. Label: the
    first data line has 40 columns (39 without)."""
    with open(path, "rb") as f:
        first = f.readline(1 << 20).decode("utf-8", errors="replace").rstrip("\r\n")
        second = f.readline(1 << 20).decode("utf-8", errors="replace").rstrip("\r\n")
    if not first:
        raise DataFormatError(path, 1, "the first line is empty", EXPECTED)
    sep = "\t" if "\t" in first else ","
    cells = first.split(sep)
    header = cells[-1].strip() == FIELD_NAMES[-1] or (cells[0] != "" and not _is_number(cells[0]))
    data = second.split(sep) if header else cells
    if header and not second:
        raise DataFormatError(path, 2, "a header but no data line", EXPECTED)
    if len(data) not in (NUM_FIELDS, NUM_FIELDS + 1):
        raise DataFormatError(path, 2 if header else 1, f"{len(data)} columns", EXPECTED)
    return ScoringLayout(sep, header, len(data) == NUM_FIELDS + 1)


def _split_chunk(lines, layout):
    """(ok mask (n,), values str (n_ok, 39), labels float32 (n_ok,) or None, [(i, reason)])."""
    columns = NUM_FIELDS + (1 if layout.with_label else 0)
    ok = np.zeros(len(lines), dtype=bool)
    rows, labels, bad = [], [], []
    for i, line in enumerate(lines):
        cells = line.rstrip("\r\n").split(layout.sep)
        if len(cells) != columns or cells == [""]:
            bad.append((i, "blank line" if cells == [""] else f"{len(cells)} columns"))
            continue
        if layout.with_label:
            if cells[0] not in ("0", "1"):
                bad.append((i, f"label {cells[0][:20]!r}"))
                continue
            labels.append(cells[0] == "1")
            cells = cells[1:]
        ok[i] = True
        rows.append(cells)
    values = np.array(rows, dtype=object).reshape(len(rows), NUM_FIELDS)
    return ok, values, (np.array(labels, dtype=np.float32) if layout.with_label else None), bad


def score_chunks(predictor, path, strict=False, chunk_lines=CHUNK_LINES, report=None):
    """Yield (probabilities float64 (n,), labels float32 (n,) or None) per chunk
    of ``chunk_lines`` data lines, in file order: row i of the concatenation is
    data line i (header excluded); malformed lines are NaN (and NaN labels)."""
    layout = detect_scoring_layout(path)
    report = report if report is not None else SkipReport(str(path))
    first_line = 2 if layout.header else 1  # 1-based number of the first data line
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        if layout.header:
            f.readline()
        for start in itertools.count(0, chunk_lines):
            lines = list(itertools.islice(f, chunk_lines))
            if not lines:
                break
            ok, values, labels, bad = _split_chunk(lines, layout)
            report.total_lines += len(lines)
            for i, reason in bad:
                if strict:
                    raise DataFormatError(path, first_line + start + i, reason, EXPECTED)
                report.add(first_line + start + i, reason)
            probs = np.full(len(lines), np.nan)
            if len(values):
                probs[ok] = predictor.predict_features(predictor.encode(values))
            full_labels = None
            if labels is not None:
                full_labels = np.full(len(lines), np.nan, dtype=np.float32)
                full_labels[ok] = labels
            yield probs, full_labels


def predict_criteo_file(predictor, path, out_file, strict=False, chunk_lines=CHUNK_LINES):
    """Write one probability per data line of ``path`` to the open text file
    ``out_file`` (``nan`` for a malformed line); returns (lines, SkipReport)."""
    report = SkipReport(str(path))
    lines = 0
    for probs, _ in score_chunks(predictor, path, strict, chunk_lines, report):
        np.savetxt(out_file, probs, fmt="%.8f")
        lines += len(probs)
    return lines, report


def evaluate_criteo_file(predictor, path, strict=False, chunk_lines=CHUNK_LINES):
    """Every metric of ``training.metrics.METRICS`` and the skipped lines of a labelled Criteo file
    (``path`` plain or as ``criteo:PATH``)."""
    path = path[len("criteo:"):] if str(path).startswith("criteo:") else path
    report = SkipReport(str(path))
    all_probs, all_labels = [], []
    for probs, labels in score_chunks(predictor, path, strict, chunk_lines, report):
        if labels is None:
            raise DataFormatError(path, 1, "no label column", "a 0/1 label then 39 values, to evaluate")
        keep = ~np.isnan(probs)
        all_probs.append(probs[keep].astype(np.float32))
        all_labels.append(labels[keep])
    probs = np.concatenate(all_probs) if all_probs else np.empty(0, np.float32)
    labels = np.concatenate(all_labels) if all_labels else np.empty(0, np.float32)
    if not len(labels):
        raise DataFormatError(path, None, f"no valid line ({report.summary()})", EXPECTED)
    return {"examples": int(len(labels)), **score(labels, probs),
            "skipped_lines": report.skipped, "skip_report": report.to_dict()}

"""Reads the d2l CTR text format (label TAB field_1 ... TAB field_n) into columns.

d2l's CTRDataset skips lines with the wrong column count without a word and
crashes on a label such as "2". Here every bad line is counted, the first
few line numbers are kept for the report, and ``strict=True`` turns the first
one into an error naming the file and line.
"""
import os
import sys
from dataclasses import dataclass, field

import numpy as np

from ..errors import DataFormatError, DeepFMError

LABELS = {"0": 0.0, "1": 1.0}
MAX_EXAMPLES = 5


@dataclass
class SkipReport:
    """What a reader left out, and where, so nothing is dropped silently."""

    path: str
    total_lines: int = 0
    skipped: int = 0
    reasons: dict = field(default_factory=dict)
    examples: list = field(default_factory=list)

    def add(self, line_no, reason):
        self.skipped += 1
        self.reasons[reason] = self.reasons.get(reason, 0) + 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append((line_no, reason))

    def summary(self):
        if not self.skipped:
            return f"{self.path}: {self.total_lines} lines, none skipped"
        where = ", ".join(f"line {n} ({r})" for n, r in self.examples)
        return (f"{self.path}: skipped {self.skipped} of {self.total_lines} lines "
                f"(first: {where})")

    def to_dict(self):
        return {"path": self.path, "total_lines": self.total_lines, "skipped": self.skipped,
                "reasons": dict(self.reasons), "examples": [list(e) for e in self.examples]}


STDIN = "-"


def read_raw_bytes(path):
    """All bytes of ``path``, read once: a file, a pipe, a FIFO or ``-`` (stdin)."""
    if path == STDIN:
        return sys.stdin.buffer.read()
    if not os.path.exists(path):
        raise DeepFMError(f"{path}: no such file")
    if os.path.isdir(path):
        raise DeepFMError(f"{path}: is a directory, expected a data file")
    with open(path, "rb") as f:
        return f.read()


def read_text_lines(path):
    """The file's lines, CR/LF-neutral, with clear errors for unreadable input.
    ``path`` may be ``-`` (stdin), a pipe or a FIFO: it is read exactly once."""
    path = os.fspath(path)
    raw = read_raw_bytes(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line_no = raw.count(b"\n", 0, err.start) + 1
        raise DataFormatError(path, line_no, "bytes that are not UTF-8",
                              "a UTF-8 text file") from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if any(line.endswith("\r") for line in lines):
        lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    return lines


def read_ctr_columns(path, num_feat=34, strict=False, with_label=True):
    """Parse a CTR file: labels (n,) float32, values (n, num_feat) object, SkipReport.

    ``with_label=False`` reads files of features only (what ``predict`` takes).
    """
    labels, cells, report, _ = parse_ctr_lines(path, read_text_lines(path), num_feat, strict, with_label)
    return labels, cells, report


# The minority layout may be at most this share of the lines that fit either
# layout; above it the file is ambiguous (docs/reliability.md).
MAX_MINORITY_SHARE = 0.1


def has_label_column(path, lines, num_feat):
    """Whether ``lines`` carry a label column, decided by the whole file: the
    field count (num_feat + 1 or num_feat) most lines have. A bad first line
    cannot flip it; a file where both layouts are common is an error."""
    counts = [line.count("\t") + 1 for line in lines if line.strip()]
    if not counts:
        raise DataFormatError(path, None, "the file is empty", "tab-separated CTR lines")
    labelled, bare = counts.count(num_feat + 1), counts.count(num_feat)
    if min(labelled, bare) > MAX_MINORITY_SHARE * (labelled + bare):
        raise DataFormatError(path, None, f"cannot tell whether there is a label column: {labelled} lines "
                              f"have {num_feat + 1} columns and {bare} have {num_feat}",
                              "one layout for the whole file")
    return labelled >= bare


def parse_ctr_lines(path, lines, num_feat, strict=False, with_label=True):
    """(labels (n,) float32 or None, values (n, num_feat) object, SkipReport,
    rows int64 (n,): the 0-based line number each kept row came from)."""
    report = SkipReport(str(path), total_lines=len(lines))
    if not lines:
        raise DataFormatError(path, None, "the file is empty", "tab-separated CTR lines")
    num_cols = num_feat + (1 if with_label else 0)
    expected = (f"label (0 or 1) then {num_feat} tab-separated fields" if with_label
                else f"{num_feat} tab-separated fields")
    good, rows = [], []
    for i, line in enumerate(lines):
        if line.count("\t") != num_cols - 1:
            reason = "blank line" if not line.strip() else f"{line.count(chr(9)) + 1} columns"
        elif with_label and line[:line.index("\t")] not in LABELS:
            reason = f"label {line[:line.index(chr(9))]!r}"
        else:
            good.append(line)
            rows.append(i)
            continue
        if strict:
            raise DataFormatError(path, i + 1, reason, expected)
        report.add(i + 1, reason)
    if not good:
        raise DataFormatError(path, None, f"no valid line among {len(lines)} "
                              f"(first problem: {report.summary()})", expected)
    cells = np.array("\t".join(good).split("\t"), dtype=object).reshape(len(good), num_cols)
    if with_label:
        labels = (cells[:, 0] == "1").astype(np.float32)
        return labels, cells[:, 1:], report, np.asarray(rows, dtype=np.int64)
    return None, cells, report, np.asarray(rows, dtype=np.int64)

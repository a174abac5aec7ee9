"""Validation splits: the rows that choose an epoch, a variant or a threshold,
so that the test set is scored once and chooses nothing.

- d2l-format data: a seeded, deterministic share of the training lines
  (default 10%); the rest stays training data. The vocabulary is the one the
  whole train.csv built (labels play no part in it), as in the book.
- Criteo: ``time`` (default) takes the lines just before the test tail, in
  file order ("train on the past, choose on the recent past, test on the
  future"); ``random`` is BARS's Criteo_x1 protocol: a seeded random 7:2:1
  permutation of all encoded rows into train/validation/test (seed
  ``RANDOM_SPLIT_SEED`` = 2018 unless given).
"""
import numpy as np

from .reader import SkipReport

DEFAULT_SHARE = 0.1
RANDOM_SPLIT_SEED = 2018
SPLIT_MODES = ("time", "random")


class RowSubset:
    """Rows ``index`` (int array) of a ``CTRData`` set, itself a ``CTRData``:
    ``features`` int32 (n, num_fields), ``labels`` float32 (n,), the parent's
    ``field_dims`` and ``encoder``; ``skip_report`` names the part."""

    def __init__(self, parent, index, part, skip_report=None):
        index = np.asarray(index, dtype=np.int64)
        self.parent, self.index, self.part = parent, index, part
        if _is_range(index):  # a slice keeps a memory-mapped parent mapped
            self.features = parent.features[index[0]:index[-1] + 1]
            self.labels = parent.labels[index[0]:index[-1] + 1]
        else:
            self.features = np.ascontiguousarray(np.asarray(parent.features)[index])
            self.labels = np.ascontiguousarray(np.asarray(parent.labels)[index])
        self.field_dims = parent.field_dims
        self.encoder = parent.encoder
        for name in ("feat_mapper", "defaults", "offsets", "field_names", "NUM_FEATS"):
            if hasattr(parent, name):
                setattr(self, name, getattr(parent, name))
        self.skip_report = skip_report if skip_report is not None else SkipReport(
            f"{parent.skip_report.path} ({part} part; skips are in the train report)")

    def __len__(self):
        return len(self.index)

    def __getitem__(self, idx):
        return np.asarray(self.features[idx]), np.asarray(self.labels[idx:idx + 1])


class _Concatenated:
    """Two CTRData sets of one encoding, one after the other (in memory)."""

    def __init__(self, first, second):
        self.features = np.concatenate([np.asarray(first.features), np.asarray(second.features)])
        self.labels = np.concatenate([np.asarray(first.labels), np.asarray(second.labels)])
        self.field_dims, self.encoder, self.skip_report = first.field_dims, first.encoder, first.skip_report
        for name in ("field_names",):
            if hasattr(first, name):
                setattr(self, name, getattr(first, name))

    def __len__(self):
        return len(self.labels)


def _is_range(index):
    return len(index) > 0 and index[-1] - index[0] + 1 == len(index) and bool(np.all(np.diff(index) == 1))


def held_out_rows(n, share, seed):
    """Sorted indices of the ``round(n * share)`` rows a seeded permutation of
    range(n) holds out (deterministic for (n, share, seed))."""
    if not 0 < share < 1:
        raise ValueError(f"validation share {share}: expected a number in (0, 1)")
    count = max(1, int(round(n * share))) if n > 1 else 0
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[:count])


def split_share(train, share=DEFAULT_SHARE, seed=0):
    """(train part, validation part) of a d2l-format training set: a seeded
    ``share`` of its rows is the validation part. The train part keeps the
    whole file's skip report."""
    held = held_out_rows(len(train), share, seed)
    keep = np.ones(len(train), dtype=bool)
    keep[held] = False
    return (RowSubset(train, np.flatnonzero(keep), "train", skip_report=train.skip_report),
            RowSubset(train, held, "validation"))


def split_time(train, share=DEFAULT_SHARE, total=None):
    """(train part, validation part) of a time-ordered training set: the last
    rows before the test tail are validation. ``share`` is of ``total`` rows
    (train + test; default: of the training rows), so 0.1 of a 90/10 file
    gives 80/10/10."""
    n = len(train)
    count = int(round((total or n) * share))
    count = min(max(count, 1), n - 1)
    return (RowSubset(train, np.arange(n - count), "train", skip_report=train.skip_report),
            RowSubset(train, np.arange(n - count, n), "validation"))


def split_random_712(train, test, seed=RANDOM_SPLIT_SEED):
    """BARS's Criteo_x1 protocol on an encoded file: all rows (train, then
    test, as cached) permuted with ``seed``, then cut 7:2:1 into
    (train, validation, test) RowSubsets. The encoder (vocabulary from the
    cache's first 90% of lines) is kept: labels play no part in it."""
    whole = _Concatenated(train, test)
    n = len(whole)
    order = np.random.default_rng(seed).permutation(n)
    a, b = int(round(n * 0.7)), int(round(n * 0.9))
    return (RowSubset(whole, np.sort(order[:a]), "train", skip_report=train.skip_report),
            RowSubset(whole, np.sort(order[a:b]), "validation"),
            RowSubset(whole, np.sort(order[b:]), "test"))

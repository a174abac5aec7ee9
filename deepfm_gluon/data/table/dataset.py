"""A table file (Criteo, Avazu, any CSV with a schema) as train/test sets that
``fit()`` takes, backed by a memory-mapped cache.

``load_table(PATH, cache_dir, options)`` reads PATH once (see cache.py) and
splits it: the last ``test_fraction`` (10%) of the data lines, in file order,
are the hold-out set. Kaggle's Criteo train.txt and Avazu train are in time
order, so this is a "train on the past, test on the future" split; malformed
lines are counted in the split they fall in and reported, never silently
dropped.
"""
import os

import numpy as np

from ..encoders import load_encoder
from ..reader import SkipReport
from .cache import ENCODER_FILE, open_cache


class TableDataset:
    """Rows ``[start, stop)`` of a cache, as a ``CTRData`` (data/protocol.py):
    ``features`` int32 (n, num_fields) memmap, offsets added (one shared
    table, as in CTRDataset), ``labels`` float32 (n,), ``field_dims`` int64
    (num_fields,), ``skip_report``, and the ``encoder`` (vocabulary or
    hashing, with the table's schema) that encodes raw cells as the cache did."""

    def __init__(self, folder, meta, start, stop, skip_report, encoder):
        self.folder, self.meta = folder, meta
        features = np.load(os.path.join(folder, "features.npy"), mmap_mode="r", allow_pickle=False)
        labels = np.load(os.path.join(folder, "labels.npy"), mmap_mode="r", allow_pickle=False)
        self.features, self.labels = features[start:stop], labels[start:stop]
        self.count = stop - start
        self.field_dims = np.asarray(meta["field_dims"], dtype=np.int64)
        self.field_names = list(encoder.field_names)
        self.skip_report = skip_report
        self.encoder = encoder

    def __len__(self):
        return self.count

    def __getitem__(self, idx):
        return np.asarray(self.features[idx]), np.asarray(self.labels[idx:idx + 1])


def _reports(meta):
    """The whole file's SkipReport goes with the train set (one file, one
    report, totals intact); the test set's report only names the file."""
    data = meta["skip_report"]
    whole = SkipReport(data["path"], data["total_lines"], data["skipped"], dict(data["reasons"]),
                       [tuple(e) for e in data["examples"]])
    return whole, SkipReport(data["path"] + " (hold-out part; skips are in the train report)")


def load_table(path, cache_dir, options, log=None):
    """(train, test) TableDatasets for the table file ``path`` (``options``: a
    TableOptions with the source's schema), using or building the cache in
    ``cache_dir``; ``log(message)`` hears about a long build."""
    folder, meta = open_cache(path, cache_dir, options, log)
    encoder = load_encoder(os.path.join(folder, ENCODER_FILE))
    train_report, test_report = _reports(meta)
    train = TableDataset(folder, meta, 0, meta["num_train"], train_report, encoder)
    test = TableDataset(folder, meta, meta["num_train"], meta["num_rows"], test_report, encoder)
    return train, test

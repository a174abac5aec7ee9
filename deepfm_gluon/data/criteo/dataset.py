"""Criteo data (Kaggle train.txt, Terabyte day_N, or samples of them) as
train/test sets that ``fit()`` takes, backed by a memory-mapped cache.

``load_criteo(PATH)`` reads PATH once (see cache.py) and splits it: the last
``test_fraction`` (10%) of the data lines, in file order, are the hold-out
set. Kaggle's train.txt is in time order, so this is a "train on the past,
test on the future" split; malformed lines are counted in the split they
fall in and reported, never silently dropped.
"""
import os

import numpy as np

from ..download import default_data_dir
from ..encoders import load_encoder
from ..reader import SkipReport
from .cache import ENCODER_FILE, CriteoOptions, open_cache
from .format import FIELD_NAMES


class CriteoDataset:
    """Rows ``[start, stop)`` of a cache, as a ``CTRData`` (data/protocol.py):
    ``features`` int32 (n, 39) memmap, offsets added (one shared table, as in
    CTRDataset), ``labels`` float32 (n,), ``field_dims`` int64 (39,),
    ``skip_report``, and the ``encoder`` (vocabulary or hashing) that
    encodes raw Criteo cells as the cache did."""

    def __init__(self, folder, meta, start, stop, skip_report, encoder):
        self.folder, self.meta = folder, meta
        features = np.load(os.path.join(folder, "features.npy"), mmap_mode="r")
        labels = np.load(os.path.join(folder, "labels.npy"), mmap_mode="r")
        self.features, self.labels = features[start:stop], labels[start:stop]
        self.count = stop - start
        self.field_dims = np.asarray(meta["field_dims"], dtype=np.int64)
        self.field_names = FIELD_NAMES
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


def load_criteo(path, cache_dir=None, options=CriteoOptions(), log=None):
    """(train, test) CriteoDatasets for the Criteo file ``path``, using or
    building the cache in ``cache_dir`` (default <data dir>/criteo-cache);
    ``log(message)`` hears about a long build."""
    cache_dir = cache_dir or os.path.join(default_data_dir(), "criteo-cache")
    folder, meta = open_cache(path, cache_dir, options, log)
    encoder = load_encoder(os.path.join(folder, ENCODER_FILE))
    train_report, test_report = _reports(meta)
    train = CriteoDataset(folder, meta, 0, meta["num_train"], train_report, encoder)
    test = CriteoDataset(folder, meta, meta["num_train"], meta["num_rows"], test_report, encoder)
    return train, test

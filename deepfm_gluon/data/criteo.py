"""Criteo data (Kaggle train.txt, Terabyte day_N, or samples of them) as
train/test sets that ``fit()`` takes, backed by a memory-mapped cache.

``--data criteo:PATH`` reads PATH once (see criteo_cache) and splits it:
the last ``test_fraction`` (10%) of the data lines, in file order, are the
hold-out set. Kaggle's train.txt is in time order, so this is a "train on
the past, test on the future" split; malformed lines are counted in the
split they fall in and reported, never silently dropped.
"""
import dataclasses
import json
import os
import sys

import numpy as np

from .criteo_cache import CriteoOptions, open_cache
from .criteo_format import FIELD_NAMES, NUM_FIELDS
from .download import default_data_dir
from .reader import SkipReport

PREFIX = "criteo:"


class CriteoDataset:
    """Rows ``[start, stop)`` of a cache: ``features`` (n, 39) int32 memmap,
    offsets added (one shared table, as in CTRDataset), ``labels`` (n,)
    float32, ``field_dims``, and CTRDataset's ``feat_mapper``/``defaults``."""

    def __init__(self, folder, meta, start, stop, skip_report, vocab=None):
        self.folder, self.meta = folder, meta
        features = np.load(os.path.join(folder, "features.npy"), mmap_mode="r")
        labels = np.load(os.path.join(folder, "labels.npy"), mmap_mode="r")
        self.features, self.labels = features[start:stop], labels[start:stop]
        self.count = stop - start
        self.field_dims = np.asarray(meta["field_dims"], dtype=np.int64)
        self.NUM_FEATS = NUM_FIELDS
        self.field_names = FIELD_NAMES
        self.skip_report = skip_report
        self.feat_mapper = vocab["feat_mapper"] if vocab else {f + 1: {} for f in range(NUM_FIELDS)}
        self.defaults = vocab["defaults"] if vocab else {f + 1: 0 for f in range(NUM_FIELDS)}

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
    """(train, test) CriteoDatasets for a Criteo file, using or building the cache."""
    cache_dir = cache_dir or os.path.join(default_data_dir(), "criteo-cache")
    folder, meta = open_cache(path, cache_dir, options, log)
    vocab = None
    if meta["encoding"] == "vocab":
        with open(os.path.join(folder, "vocab.json")) as f:
            raw = json.load(f)
        vocab = {"feat_mapper": {int(k): v for k, v in raw["feat_mapper"].items()},
                 "defaults": {int(k): int(v) for k, v in raw["defaults"].items()}}
    train_report, test_report = _reports(meta)
    train = CriteoDataset(folder, meta, 0, meta["num_train"], train_report, vocab)
    test = CriteoDataset(folder, meta, meta["num_train"], meta["num_rows"], test_report, vocab)
    return train, test


def load_criteo_split(spec, data_dir=None, strict=False, options=None, log=None):
    """The DataSplit for ``criteo:PATH``; the cache lives in <data dir>/criteo-cache."""
    from .sources import DataSplit
    from ..errors import DeepFMError
    path = spec[len(PREFIX):]
    if not path:
        raise DeepFMError("--data criteo:PATH needs a file path after 'criteo:'")
    options = dataclasses.replace(options or CriteoOptions(), strict=strict)
    cache_dir = os.path.join(data_dir or default_data_dir(), "criteo-cache")
    if log is None:  # a first read of a large file takes minutes: say what is happening
        def log(message):
            print(message, file=sys.stderr, flush=True)
    train, test = load_criteo(path, cache_dir, options, log)
    return DataSplit(spec, train, test)

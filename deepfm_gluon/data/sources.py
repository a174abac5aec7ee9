"""Turns a ``--data`` value into training and test files.

'synthetic' (the offline default, generated once into the data dir), 'ctr'
(the book's data, downloaded if absent), a directory holding ``train.csv``
and ``test.csv``, or ``criteo:PATH`` (a Criteo file, split and cached by
the data/criteo package).
"""
import dataclasses
import os
import sys
from typing import Optional

from ..errors import DeepFMError
from .ctr_dataset import CTRDataset
from .download import CTR_SHA1, CTR_URL, default_data_dir, download_ctr
from .protocol import CTRData
from .synthetic import SyntheticSpec, generate_synthetic

CRITEO_PREFIX = "criteo:"


@dataclasses.dataclass
class DataSplit:
    """Encoded train, validation (or None: the book's protocol) and test sets
    (``CTRData``), the ``--data`` value they came from and how validation was cut."""

    name: str
    train: CTRData
    test: CTRData
    validation: Optional[CTRData] = None
    protocol: str = "no validation split"

    def describe(self):
        middle = f" / {len(self.validation)} validation" if self.validation is not None else ""
        return (f"{self.name}: {len(self.train)} train{middle} / {len(self.test)} test lines "
                f"[{self.protocol}], "
                f"{int(self.train.field_dims.sum())} features in {len(self.train.field_dims)} fields")


def with_validation(split, share=0.1, mode="time", seed=0):
    """``split`` with a validation part (see data/validation.py): for d2l-format
    data a ``seed``-ed ``share`` of the training lines; for criteo: data the lines
    just before the test tail (``mode`` 'time') or BARS's seeded random 7:2:1
    split (``mode`` 'random'; ``seed`` None means RANDOM_SPLIT_SEED)."""
    from . import validation as v  # imported here to keep start-up fast: validation runs only
    if split.validation is not None:
        return split
    if mode not in v.SPLIT_MODES:
        raise DeepFMError(f"--split {mode}: expected one of {', '.join(v.SPLIT_MODES)}")
    criteo = split.name.startswith(CRITEO_PREFIX)
    if mode == "random":
        if not criteo:
            raise DeepFMError("--split random applies to --data criteo:PATH only")
        seed = v.RANDOM_SPLIT_SEED if seed is None else seed
        train, validation, test = v.split_random_712(split.train, split.test, seed)
        return DataSplit(split.name, train, test, validation, f"random 7:2:1, seed {seed}")
    if criteo:
        train, validation = v.split_time(split.train, share, total=len(split.train) + len(split.test))
        return DataSplit(split.name, train, split.test, validation,
                         f"validation: the {share:.0%} of lines before the test tail")
    train, validation = v.split_share(split.train, share, 0 if seed is None else seed)
    return DataSplit(split.name, train, split.test, validation,
                     f"validation: {share:.0%} of train.csv, seed {0 if seed is None else seed}")


def resolve_data_dir(spec, data_dir=None, synthetic=None):
    """The directory with train.csv/test.csv for ``spec``; creates it if needed."""
    data_dir = data_dir or default_data_dir()
    if spec == "synthetic":
        synthetic = synthetic or SyntheticSpec()
        return generate_synthetic(os.path.join(data_dir, synthetic.key()), synthetic)
    if spec == "ctr":
        return resolve_ctr_dir(data_dir)
    if not os.path.isdir(spec):
        raise DeepFMError(f"--data {spec}: not 'synthetic', 'ctr' or a directory")
    for name in ("train.csv", "test.csv"):
        if not os.path.exists(os.path.join(spec, name)):
            raise DeepFMError(f"--data {spec}: has no {name}; expected train.csv and test.csv")
    return spec


def resolve_ctr_dir(data_dir, url=CTR_URL, sha1=CTR_SHA1):
    """The book's data folder in ``data_dir``: extracted earlier, or downloaded
    from ``url`` and checked against ``sha1`` (DownloadUnavailable offline)."""
    local = os.path.join(data_dir, "ctr")
    if os.path.exists(os.path.join(local, "train.csv")):
        return local
    return download_ctr(data_dir, url=url, sha1=sha1)


def load_split(spec="synthetic", data_dir=None, strict=False, synthetic=None, num_feat=34,
               criteo=None):
    """Read and encode the train/test pair named by ``spec`` (see module doc)
    into a ``DataSplit``. ``criteo``: CriteoOptions for ``criteo:PATH``
    (default: vocabulary, min count 4)."""
    if spec.startswith(CRITEO_PREFIX):
        return load_criteo_split(spec, data_dir, strict, criteo)
    folder = resolve_data_dir(spec, data_dir, synthetic)
    train = CTRDataset(os.path.join(folder, "train.csv"), num_feat=num_feat, strict=strict)
    test = CTRDataset(os.path.join(folder, "test.csv"), feat_mapper=train.feat_mapper,
                      defaults=train.defaults, num_feat=num_feat, strict=strict)
    return DataSplit(spec, train, test)


def criteo_cache_args(spec, data_dir=None, strict=False, options=None):
    """(file path, cache dir, CriteoOptions) for ``criteo:PATH``: the one rule
    that `prepare`, the launcher and the workers share, so they meet in one cache."""
    from .criteo import CriteoOptions  # Criteo runs only: imported here to keep start-up fast
    path = spec[len(CRITEO_PREFIX):] if spec.startswith(CRITEO_PREFIX) else ""
    if not path:
        raise DeepFMError("--data criteo:PATH needs a file path after 'criteo:'")
    options = dataclasses.replace(options or CriteoOptions(), strict=strict)
    return path, os.path.join(data_dir or default_data_dir(), "criteo-cache"), options


def prepare_criteo_cache(spec, data_dir=None, strict=False, options=None, log=None):
    """Build (or find) the cache of ``criteo:PATH`` once, before any worker
    starts; returns (cache folder, meta dict). Workers given the same
    ``--data``/``--data-dir``/``--hash-buckets`` then memory-map it read-only
    (``load_split``) and never encode. For the launcher (docs/criteo.md)."""
    from .criteo import open_cache  # Criteo runs only: imported here to keep start-up fast
    path, cache_dir, options = criteo_cache_args(spec, data_dir, strict, options)
    return open_cache(path, cache_dir, options, log)


def load_criteo_split(spec, data_dir=None, strict=False, options=None, log=None):
    """The DataSplit for ``criteo:PATH``; the cache lives in <data dir>/criteo-cache."""
    # Imported here, not at the top: the Criteo stack (pandas' hash tables) is
    # only loaded by runs that read Criteo data, which keeps start-up fast.
    from .criteo import load_criteo
    path, cache_dir, options = criteo_cache_args(spec, data_dir, strict, options)
    if log is None:  # a first read of a large file takes minutes: say what is happening
        def log(message):
            print(message, file=sys.stderr, flush=True)
    train, test = load_criteo(path, cache_dir, options, log)
    return DataSplit(spec, train, test)

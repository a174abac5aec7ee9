"""Turns a ``--data`` value into training and test sets, through the registry
of data sources (one file each in this package, ``SOURCE = SourceSpec(...)``;
docs/extending.md, "Add a data source").

``--data NAME`` or ``--data NAME:ARGS``: ``synthetic`` (the offline default),
``ctr`` (the book's data), a directory holding ``train.csv`` and
``test.csv``, ``criteo:PATH``, ``avazu:PATH`` and ``csv:PATH`` (with a
schema). Folder sources are read by ``CTRDataset``; table sources are
streamed, encoded and cached by data/table/.
"""
import dataclasses
import os
import sys
from typing import Optional

from ...errors import DeepFMError
from ..ctr_dataset import CTRDataset
from ..download import default_data_dir
from ..protocol import CTRData
from .ctr import resolve_ctr_dir  # noqa: F401 (d2l.py)
from .registry import get_source, input_path, known_sources, resolve, source_names  # noqa: F401
from .spec import DataOptions, SourceSpec  # noqa: F401


@dataclasses.dataclass
class DataSplit:
    """Encoded train, validation (or None: the book's protocol) and test sets
    (``CTRData``), the ``--data`` value they came from and how validation was
    cut: ``protocol`` in words, ``cut`` as ``with_validation``'s arguments
    ({"share", "mode", "seed"}; None without validation), so that a saved
    model's validation rows can be cut again (explain).
    ``time_ordered``: the sets are consecutive parts of one time-ordered file."""

    name: str
    train: CTRData
    test: CTRData
    validation: Optional[CTRData] = None
    protocol: str = "no validation split"
    time_ordered: bool = False
    cut: Optional[dict] = None

    def describe(self):
        middle = f" / {len(self.validation)} validation" if self.validation is not None else ""
        return (f"{self.name}: {len(self.train)} train{middle} / {len(self.test)} test lines "
                f"[{self.protocol}], "
                f"{int(self.train.field_dims.sum())} features in {len(self.train.field_dims)} fields")


def with_validation(split, share=0.1, mode="time", seed=0):
    """``split`` with a validation part (see data/validation.py): for d2l-format
    data a ``seed``-ed ``share`` of the training lines; for a time-ordered
    table (criteo:, avazu:, csv:) the lines just before the test tail (``mode``
    'time') or BARS's seeded random 7:2:1 split (``mode`` 'random'; ``seed``
    None means RANDOM_SPLIT_SEED)."""
    from .. import validation as v  # imported here to keep start-up fast: validation runs only
    if split.validation is not None:
        return split
    if mode not in v.SPLIT_MODES:
        raise DeepFMError(f"--split {mode}: expected one of {', '.join(v.SPLIT_MODES)}")
    if mode == "random":
        if not split.time_ordered:
            raise DeepFMError("--split random applies to a single-file table (--data criteo:PATH, "
                              "avazu:PATH, csv:PATH) only")
        seed = v.RANDOM_SPLIT_SEED if seed is None else seed
        train, validation, test = v.split_random_712(split.train, split.test, seed)
        return dataclasses.replace(split, train=train, test=test, validation=validation,
                                   protocol=f"random 7:2:1, seed {seed}",
                                   cut={"share": share, "mode": mode, "seed": seed})
    if split.time_ordered:
        train, validation = v.split_time(split.train, share, total=len(split.train) + len(split.test))
        return dataclasses.replace(split, train=train, validation=validation,
                                   protocol=f"validation: the {share:.0%} of lines before the test tail",
                                   cut={"share": share, "mode": mode, "seed": seed})
    seed = 0 if seed is None else seed
    train, validation = v.split_share(split.train, share, seed)
    return dataclasses.replace(split, train=train, validation=validation,
                               protocol=f"validation: {share:.0%} of train.csv, seed {seed}",
                               cut={"share": share, "mode": mode, "seed": seed})


def resolve_data_dir(spec, data_dir=None, synthetic=None):
    """The directory with train.csv/test.csv of a folder source; creates it if needed."""
    source, args = resolve(spec)
    if source.is_table:
        raise DeepFMError(f"--data {spec}: a {source.name} file, not a folder of train.csv and test.csv")
    return source.folder(args, data_dir or default_data_dir(), DataOptions(synthetic=synthetic))


def _options(options=None, strict=False, synthetic=None, num_feat=34, criteo=None):
    """DataOptions from the keyword arguments (``criteo``: older TableOptions)."""
    options = options or DataOptions()
    if criteo is not None:
        options = dataclasses.replace(options, hash_buckets=criteo.hash_buckets,
                                      min_threshold=criteo.min_threshold)
    return dataclasses.replace(options, strict=strict or options.strict,
                               synthetic=synthetic or options.synthetic, num_feat=num_feat)


def check_options(source, options):
    """Flags that do not apply to ``source``, in one line."""
    if options.hash_buckets and not source.supports_hashing:
        hashing = ", ".join(f"{name}:PATH" for name in source_names() if get_source(name).supports_hashing)
        raise DeepFMError(f"--hash-buckets applies to --data {hashing} only")
    if source.name != "csv" and options.schema_flags():
        raise DeepFMError(f"{options.schema_flags()[0]} applies to --data csv:PATH only "
                          f"(the {source.name} source declares its own columns)")


def load_split(spec="synthetic", data_dir=None, strict=False, synthetic=None, num_feat=34,
               criteo=None, options=None, log=None):
    """Read and encode the train/test pair named by ``spec`` (see module doc)
    into a ``DataSplit``. ``options``: DataOptions (hashing, a CSV schema...)."""
    source, args = resolve(spec)
    options = _options(options, strict, synthetic, num_feat, criteo)
    check_options(source, options)
    if source.is_table:
        return _load_table_split(spec, source, args, data_dir, options, log)
    folder = source.folder(args, data_dir or default_data_dir(), options)
    train = CTRDataset(os.path.join(folder, "train.csv"), num_feat=num_feat, strict=options.strict)
    test = CTRDataset(os.path.join(folder, "test.csv"), feat_mapper=train.feat_mapper,
                      defaults=train.defaults, num_feat=num_feat, strict=options.strict)
    return DataSplit(spec, train, test)


def table_cache_args(spec, data_dir=None, options=None):
    """(file path, cache dir, TableOptions) of a table source's ``NAME:PATH``:
    the one rule that `prepare`, the launcher and the workers share, so they
    meet in one cache (<data dir>/<source>-cache)."""
    from ..table.cache import TableOptions  # table sources only: imported here to keep start-up fast
    source, path = resolve(spec)
    options = options or DataOptions()
    check_options(source, options)
    if not source.is_table:
        raise DeepFMError(f"--data {spec}: not a table file (expected {', '.join(t for t in table_usages())})")
    if not path:
        raise DeepFMError(f"--data {source.usage} needs a file path after '{source.name}:'")
    table = TableOptions(schema=source.schema(path, options), sep=options.sep, header=options.header,
                         hash_buckets=options.hash_buckets, min_threshold=options.min_threshold,
                         strict=options.strict)
    return path, os.path.join(data_dir or default_data_dir(), f"{source.name}-cache"), table


def table_usages():
    return [get_source(name).usage for name in source_names() if get_source(name).is_table]


def prepare_cache(spec, data_dir=None, options=None, log=None):
    """Build (or find) the cache of a table source's file once, before any
    worker starts; returns (cache folder, meta dict). Workers given the same
    ``--data``/``--data-dir``/``--hash-buckets`` then memory-map it read-only
    (``load_split``) and never encode. For `prepare` and the launcher."""
    from ..table.cache import open_cache  # table sources only: imported here to keep start-up fast
    path, cache_dir, table = table_cache_args(spec, data_dir, options)
    return open_cache(path, cache_dir, table, log)


def _load_table_split(spec, source, path, data_dir, options, log=None):
    """The DataSplit of a table source's file, through its cache."""
    # Imported here, not at the top: the table stack (pandas' hash tables) is
    # only loaded by runs that read table files, which keeps start-up fast.
    from ..table.dataset import load_table
    path, cache_dir, table = table_cache_args(spec, data_dir, options)
    if log is None:  # a first read of a large file takes minutes: say what is happening
        def log(message):
            print(message, file=sys.stderr, flush=True)
    train, test = load_table(path, cache_dir, table, log)
    return DataSplit(spec, train, test, time_ordered=source.time_ordered)


def prepare_criteo_cache(spec, data_dir=None, strict=False, options=None, log=None):
    """``prepare_cache`` with the older signature (``options``: TableOptions)."""
    return prepare_cache(spec, data_dir, _options(None, strict, criteo=options), log)


def load_criteo_split(spec, data_dir=None, strict=False, options=None, log=None):
    """``load_split`` of ``criteo:PATH`` with the older signature (``options``: TableOptions)."""
    return load_split(spec, data_dir, strict, criteo=options, log=log)

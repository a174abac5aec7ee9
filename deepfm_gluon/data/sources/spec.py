"""What a data source declares: ``SourceSpec``; and what the data flags say
beyond ``--data``: ``DataOptions``.

Two kinds of source. A *folder* source gives a folder holding d2l-format
``train.csv`` and ``test.csv`` (``folder``: args, data dir, options -> the
folder). A *table* source reads one text file of CTR lines through the
table machinery (data/table/: streaming, vocabulary or hashing, the
memory-mapped cache, raw-line scoring); it declares its columns as data
(``schema``: args, options -> a Schema), and everything else follows.
"""
import dataclasses
from typing import Callable, Optional


@dataclasses.dataclass(frozen=True)
class DataOptions:
    """The data flags beside ``--data``: ``hash_buckets`` (0: a vocabulary with
    ``min_threshold``), ``strict``, the ``synthetic`` spec and ``num_feat`` of
    the d2l-format sources, and a CSV schema: ``label``, ``categorical`` and
    ``numeric`` columns, ``sep`` and ``header`` (None: decided from line 1)."""

    hash_buckets: int = 0
    min_threshold: int = 4
    strict: bool = False
    synthetic: object = None
    num_feat: int = 34
    label: Optional[str] = None
    categorical: tuple = ()
    numeric: tuple = ()
    sep: Optional[str] = None
    header: Optional[bool] = None

    def schema_flags(self):
        """The CSV schema flags that were given, as ``--flag`` names."""
        given = {"--label": self.label, "--categorical": self.categorical, "--numeric": self.numeric}
        return [flag for flag, value in given.items() if value]


@dataclasses.dataclass(frozen=True)
class SourceSpec:
    """One data source. ``name`` is what ``--data NAME`` or ``--data NAME:ARGS``
    says; ``usage`` how (e.g. ``criteo:PATH``); ``description`` one line.

    - ``folder`` or ``schema``: how its data is found (see the module doc);
    - ``takes_path``: ARGS is a file, so ``NAME:PATH`` is accepted wherever
      an input file is (``predict --input``, ``evaluate --data``);
    - ``supports_hashing``: ``--hash-buckets`` applies;
    - ``default_preset``: the ``--preset`` used when none is given;
    - ``time_ordered``: the file is in time order: the hold-out is its tail,
      validation the lines before it, and ``--split random`` (BARS) applies.
    """

    name: str
    usage: str
    description: str
    folder: Optional[Callable] = None
    schema: Optional[Callable] = None
    takes_path: bool = False
    supports_hashing: bool = False
    default_preset: str = "book"
    time_ordered: bool = False
    module: str = ""

    def __post_init__(self):
        if (self.folder is None) == (self.schema is None):
            raise ValueError(f"source {self.name!r}: give exactly one of folder= and schema=")

    @property
    def is_table(self):
        return self.schema is not None

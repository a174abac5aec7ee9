"""Encoders: raw field values (text) -> the int32 feature indices a model takes.

An encoder is fitted with the training data, saved beside the model
(``encoder.json``) and used again to score new data, so training and serving
encode alike. Two kinds:

- ``VocabularyEncoder``: d2l's rule. Per field, the values seen at least
  ``min_threshold`` times in training get an index (0..k-1); every other
  value gets the field's default index (k).
- ``HashingEncoder``: each value goes to one of ``num_buckets`` rows of its
  field through a fixed 64-bit hash; no dictionary.

Both add per-field offsets, so indices address one shared embedding table:
``index = offset_f + local_f(value)``, ``offset_f = sum(field_dims[:f])``.

JSON (``to_dict``/``save``), format version 1; a client in another language
implements it from this (details and the hash: docs/encoder.md)::

    {"format": "deepfm-gluon-encoder", "format_version": 1,
     "kind": "vocabulary",
     "fields": [{"name": "I1", "transform": "criteo_integer",
                 "vocabulary": {"L5": 0, "": 1, ...}, "default": 2}, ...]}

    {"format": "deepfm-gluon-encoder", "format_version": 1,
     "kind": "hashing", "num_buckets": 1000000,
     "fields": [{"name": "I1", "transform": "criteo_integer"}, ...]}

``transform`` turns a raw value into the token that is looked up or hashed
(data/tokens.py): ``identity``, ``criteo_integer``, ``hour_of_day`` or
``weekday``. Vocabulary field dimension: ``len(vocabulary) + 1``; hashing:
``num_buckets``. An encoder fitted to a table source (Criteo, Avazu, CSV)
also records the table's schema under ``"table"`` (data/table/schema.py:
source, label column, each field's column, separator, header), so raw lines
of that format can be scored from the model's folder alone.
"""
import json
import os
from typing import Protocol, runtime_checkable

import numpy as np

from ..atomic import atomic_write_text
from ..errors import DeepFMError, format_problem
from ..version import __version__
from . import tokens
from .table.schema import Schema
from .vocabulary import apply_mapping_to_codes, field_offsets

FORMAT = "deepfm-gluon-encoder"
FORMAT_VERSION = 1
MAX_INDEX = 2**31  # indices are int32
# Below this many rows, factorizing a column costs more than looking every value up.
FACTORIZE_FROM_ROWS = 64


class EncoderFormatError(DeepFMError):
    """An encoder's JSON is not what this version writes."""


@runtime_checkable
class Encoder(Protocol):
    """What the model directory saves and serving uses."""

    kind: str
    field_names: list

    @property
    def field_dims(self) -> np.ndarray: ...

    def encode(self, values) -> np.ndarray:
        """values: str (n, num_fields) raw field values (array or nested list) ->
        int32 (n, num_fields) feature indices, field offsets added."""

    def to_dict(self) -> dict: ...


class _FieldsEncoder:
    """What both kinds share: field names and transforms, offsets, JSON I/O."""

    kind = None

    def __init__(self, field_names, transforms, table=None):
        self.table = table  # the Schema of a table source, or None (d2l-format data)
        self.field_names = [str(n) for n in field_names]
        self.transforms = list(transforms) if transforms is not None else ["identity"] * len(self.field_names)
        if len(self.transforms) != len(self.field_names):
            raise EncoderFormatError(f"{len(self.field_names)} fields but {len(self.transforms)} transforms")
        for t in self.transforms:
            if t not in tokens.TRANSFORMS:
                raise EncoderFormatError(f"unknown field transform {t!r}; expected one of {tokens.TRANSFORMS}")

    @property
    def num_fields(self):
        return len(self.field_names)

    @property
    def offsets(self):
        """int64 (num_fields,): each field's first row in the shared table."""
        return field_offsets(self.field_dims)

    def encode(self, values):
        """values: str (n, num_fields) raw field values -> int32 (n, num_fields)
        feature indices, offsets added."""
        values = np.asarray(values, dtype=object)
        if values.ndim != 2 or values.shape[1] != self.num_fields:
            raise DeepFMError(f"expected values of shape (n, {self.num_fields}), got {values.shape}")
        out = np.empty(values.shape, dtype=np.int32)
        for f, offset in enumerate(self.offsets):
            out[:, f] = self.encode_field(f, values[:, f]) + offset
        return out

    def encode_field(self, f, values):
        """int64 (n,) local indices (no offset) of one field's raw values."""
        values = np.asarray(values, dtype=object)
        if len(values) <= FACTORIZE_FROM_ROWS:  # a request of a few rows: each value is its own "unique"
            return self.encode_factorized(f, np.arange(len(values)), values)
        # imported here to keep start-up fast: pandas costs ~0.2 s and the default data path does not need it
        import pandas as pd
        codes, uniques = pd.factorize(values)
        return self.encode_factorized(f, codes, np.asarray(uniques, dtype=object))

    def _fields_json(self):
        return [{"name": n, "transform": t} for n, t in zip(self.field_names, self.transforms)]

    def _with_table(self, data):
        if self.table is not None:
            data["table"] = self.table.to_dict()
        return data

    @staticmethod
    def _table(data, fields):
        if data.get("table") is None:
            return None
        try:
            return Schema.from_dict(data["table"], [f["name"] for f in fields], [f["transform"] for f in fields])
        except ValueError as err:
            raise EncoderFormatError(str(err)) from None

    def save(self, path):
        """Write ``to_dict()`` as JSON, atomically. Compact, so that json's C
        encoder writes it (a Criteo vocabulary has millions of entries)."""
        atomic_write_text(os.fspath(path), json.dumps(self.to_dict(), separators=(",", ":")))
        return path

    @classmethod
    def from_dict(cls, data):
        """Inverse of ``to_dict``; EncoderFormatError for another kind or a bad dict."""
        return cls._check_kind(encoder_from_dict(data), "the dict")

    @classmethod
    def load(cls, path):
        """Inverse of ``save``."""
        return cls._check_kind(load_encoder(path), path)

    @classmethod
    def _check_kind(cls, encoder, where):
        if not isinstance(encoder, cls):
            raise EncoderFormatError(f"{where}: holds a {encoder.kind} encoder, not {cls.kind}")
        return encoder

    def __eq__(self, other):
        return type(other) is type(self) and other.to_dict() == self.to_dict()


class VocabularyEncoder(_FieldsEncoder):
    """Per-field vocabularies with defaults (d2l's ``feat_mapper`` and ``defaults``).

    ``vocabularies[f]``: {token: local index}; ``defaults[f]``: the local index
    of every other token. ``field_dims[f] = len(vocabularies[f]) + 1``.
    """

    kind = "vocabulary"

    def __init__(self, vocabularies, defaults, field_names=None, transforms=None, table=None):
        if len(vocabularies) != len(defaults):
            raise EncoderFormatError(f"{len(vocabularies)} vocabularies but {len(defaults)} defaults")
        names = field_names if field_names is not None else [str(f + 1) for f in range(len(defaults))]
        super().__init__(names, transforms, table)
        if len(names) != len(defaults):
            raise EncoderFormatError(f"{len(names)} field names but {len(defaults)} vocabularies")
        self.vocabularies = [dict(v) for v in vocabularies]
        self.defaults = [int(d) for d in defaults]
        self._field_dims = np.array([len(v) + 1 for v in self.vocabularies], dtype=np.int64)
        if int(self._field_dims.sum()) >= MAX_INDEX:
            raise DeepFMError(f"{int(self._field_dims.sum())} features overflow int32 indices; "
                              "use hashing (--hash-buckets)")

    @classmethod
    def from_feat_mapper(cls, feat_mapper, defaults, field_names=None, transforms=None):
        """From d2l's dicts keyed by field number 1..n (CTRDataset, mapping.json)."""
        fields = sorted(feat_mapper)
        if fields != list(range(1, len(fields) + 1)) or sorted(defaults) != fields:
            raise EncoderFormatError(f"expected a mapping for fields 1..{len(fields)}")
        return cls([feat_mapper[f] for f in fields], [defaults[f] for f in fields],
                   field_names, transforms)

    @property
    def field_dims(self):
        """int64 (num_fields,): rows per field in the shared table."""
        return self._field_dims

    @property
    def feat_mapper(self):
        """d2l's form: {field 1..n: {token: local index}}."""
        return {f + 1: v for f, v in enumerate(self.vocabularies)}

    def encode_factorized(self, f, codes, uniques):
        """Local indices of field ``f`` from a factorized column: ``codes`` int (n,)
        index into ``uniques``, object (u,) raw values in any order -> int64 (n,)."""
        return apply_mapping_to_codes(codes, tokens.apply_transform(self.transforms[f], uniques),
                                      self.vocabularies[f], self.defaults[f])

    def to_dict(self):
        fields = self._fields_json()
        for field, vocab, default in zip(fields, self.vocabularies, self.defaults):
            field.update(vocabulary=vocab, default=default)
        return self._with_table({"format": FORMAT, "format_version": FORMAT_VERSION, "kind": self.kind,
                                 "fields": fields})

    @classmethod
    def _from_fields(cls, data, fields):
        vocabs, defaults = [], []
        for i, field in enumerate(fields):
            vocab, default = field.get("vocabulary"), field.get("default")
            if not isinstance(vocab, dict) or not isinstance(default, int):
                raise EncoderFormatError(f"field {i + 1}: needs a 'vocabulary' object and an integer 'default'")
            if not all(isinstance(v, int) and 0 <= v < len(vocab) for v in vocab.values()):
                raise EncoderFormatError(f"field {i + 1}: vocabulary indices must be 0..{len(vocab) - 1}")
            if not 0 <= default <= len(vocab):
                raise EncoderFormatError(f"field {i + 1}: default {default} outside 0..{len(vocab)}")
            vocabs.append(vocab)
            defaults.append(default)
        return cls(vocabs, defaults, [f["name"] for f in fields], [f["transform"] for f in fields],
                   cls._table(data, fields))


class HashingEncoder(_FieldsEncoder):
    """Feature hashing: local index = ``tokens.buckets(key(token), f, num_buckets)``."""

    kind = "hashing"

    def __init__(self, num_buckets, field_names, transforms=None, table=None):
        super().__init__(field_names, transforms, table)
        self.num_buckets = int(num_buckets)
        if self.num_buckets < 1:
            raise EncoderFormatError(f"num_buckets must be positive, not {num_buckets}")
        if self.num_buckets * self.num_fields >= MAX_INDEX:
            raise DeepFMError(f"--hash-buckets {self.num_buckets}: {self.num_fields} fields of that "
                              "many rows overflow int32 indices")

    @property
    def field_dims(self):
        return np.full(self.num_fields, self.num_buckets, dtype=np.int64)

    def keys(self, f, uniques):
        """uint64 key of each raw value of field ``f`` (the hash's input)."""
        if self.transforms[f] == "identity":
            return tokens.text_keys(list(uniques))
        return tokens.token_keys(tokens.apply_transform(self.transforms[f], uniques))

    def encode_factorized(self, f, codes, uniques):
        """Local bucket indices of field ``f`` from a factorized column: ``codes``
        int (n,) index into ``uniques``, object (u,) raw values -> int64 (n,)."""
        return tokens.buckets(self.keys(f, uniques), f, self.num_buckets)[codes]

    def to_dict(self):
        return self._with_table({"format": FORMAT, "format_version": FORMAT_VERSION, "kind": self.kind,
                                 "num_buckets": self.num_buckets, "fields": self._fields_json()})

    @classmethod
    def _from_fields(cls, data, fields):
        buckets = data.get("num_buckets")
        if not isinstance(buckets, int):
            raise EncoderFormatError("a hashing encoder needs an integer 'num_buckets'")
        return cls(buckets, [f["name"] for f in fields], [f["transform"] for f in fields],
                   cls._table(data, fields))


KINDS = {cls.kind: cls for cls in (VocabularyEncoder, HashingEncoder)}


def encoder_from_dict(data):
    """The encoder ``to_dict()`` described; EncoderFormatError if it is not one."""
    problem = format_problem(data, FORMAT, FORMAT_VERSION, "deepfm-gluon encoder",
                             f"deepfm-gluon {__version__}", "encoder format version")
    if problem:
        raise EncoderFormatError(problem)
    if data.get("kind") not in KINDS:
        raise EncoderFormatError(f"unknown encoder kind {data.get('kind')!r}; expected one of {sorted(KINDS)}")
    fields = data.get("fields")
    if not isinstance(fields, list) or not fields or not all(
            isinstance(f, dict) and isinstance(f.get("name"), str) and isinstance(f.get("transform"), str)
            for f in fields):
        raise EncoderFormatError("'fields' must be a non-empty list of {name, transform, ...}")
    return KINDS[data["kind"]]._from_fields(data, fields)


def load_encoder(path):
    """The encoder saved at ``path`` (JSON); errors name the file."""
    path = os.fspath(path)
    try:
        with open(path) as f:
            data = json.load(f)
    except FileNotFoundError:
        raise DeepFMError(f"{path}: no such file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise EncoderFormatError(f"{path}: not valid JSON ({err})") from None
    try:
        return encoder_from_dict(data)
    except EncoderFormatError as err:
        raise EncoderFormatError(f"{path}: {err}") from None

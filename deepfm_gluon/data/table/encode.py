"""Fitting an encoder to a CTR table while its chunks stream by, and
encoding chunks with a fitted one (raw-line scoring).

Two streaming encoders with one interface (``observe`` a chunk's column,
``finish`` into the saved encoder of data/encoders.py, ``lookups``):

- ``StreamingVocabulary``: the book's rule over one pass. Each field keeps a
  hash table key -> raw id (pandas' C hash table, so a chunk costs one call
  per column, not a Python loop per value) and a count per raw id over the
  training rows. At the end, tokens seen at least ``min_threshold`` times are
  numbered in sorted order; every other token, and any token seen only in the
  hold-out rows, maps to the field's default index (its vocabulary size).
  Memory is the distinct values, not the rows.
- ``StreamingHashing``: each field's token goes to one of ``num_buckets``
  rows by a fixed 64-bit mix of its key (data/tokens.py; stable across runs
  and machines). No dictionary at all; collisions are the price.

Fields with a transform (a numeric column's log^2 bucket, Avazu's hour of
day) are first mapped to their token (data/tokens.py); only distinct keys
not seen before are decoded to text, so that costs little. The schema
(data/table/schema.py) says which fields have which transform.
"""
import numpy as np
import pandas as pd
from pandas._libs import hashtable

from ..encoders import HashingEncoder, VocabularyEncoder
from ..tokens import LONG_BIT, apply_transform, buckets, cell_text, token_keys
from ..vocabulary import field_offsets


def key_texts(keys, long_texts):
    """Text of each key: packed keys decode directly, long ones from ``long_texts``."""
    keys = np.asarray(keys, dtype=np.uint64)
    packed = keys.view("S8")  # numpy strips the zero padding
    try:
        out = packed.astype(str).astype(object)
    except UnicodeDecodeError:  # non-ASCII bytes: decode one by one, keeping every byte
        out = np.array([cell_text(b) for b in packed], dtype=object)
    for i in np.flatnonzero(keys & LONG_BIT):
        out[i] = long_texts[int(keys[i])]
    return out


def add_counts(counts, ids, size, sign):
    """counts[id] += sign for each of ``ids`` (raw ids < ``size``): one dense
    bincount when the field is small next to the chunk, else a count of the
    chunk's distinct ids only (O(chunk), not O(vocabulary))."""
    if size <= 4 * len(ids):
        counts[:size] += sign * np.bincount(ids, minlength=size)
    else:
        codes, distinct = pd.factorize(ids)
        counts[distinct] += sign * np.bincount(codes, minlength=len(distinct))


class _TransformedTokens:
    """Key -> token id for one field with a transform: a C hash table from key
    to key id, and an array from key id to token id; only new keys are decoded."""

    def __init__(self, transform):
        self.transform = transform
        self.table = hashtable.UInt64HashTable()
        self.token_of_key = np.zeros(0, dtype=np.int64)
        self.token_ids, self.tokens = {}, []

    def ids(self, chunk, field, column):
        before, new = len(self.table), hashtable.UInt64Vector()
        key_ids = self.table.get_labels(column, new, before, -1)
        if len(self.table) > before:
            first = np.empty(len(self.table), dtype=np.int64)
            first[key_ids[::-1]] = np.arange(len(key_ids) - 1, -1, -1)  # last write wins: first row
            tokens = apply_transform(self.transform, chunk.texts(field, first[before:]))
            fresh = [self.token_ids.setdefault(tok, len(self.token_ids)) for tok in tokens]
            self.tokens = list(self.token_ids)  # dicts keep insertion order: index = token id
            self.token_of_key = np.concatenate([self.token_of_key, np.array(fresh, dtype=np.int64)])
        return self.token_of_key[key_ids]


class StreamingVocabulary:
    """Per-field token counts over the training rows; the book's min-count rule."""

    kind = "vocab"

    def __init__(self, schema, min_threshold=4):
        self.schema = schema
        self.min_threshold = int(min_threshold)
        count = len(schema.fields)
        self.tables = [hashtable.UInt64HashTable() for _ in range(count)]
        self.keys = [[] for _ in range(count)]
        self.long_texts = [{} for _ in range(count)]
        self.ints = [_TransformedTokens(t) if t != "identity" else None for t in schema.transforms]
        self.counts = [np.zeros(0, dtype=np.int64) for _ in range(count)]
        self._lookup = None

    def _size(self, field):
        return len(self.ints[field].tokens) if self.ints[field] else len(self.tables[field])

    def _raw_ids(self, chunk, field):
        column = chunk.keys[field]
        if self.ints[field]:
            return self.ints[field].ids(chunk, field, column), len(self.ints[field].tokens)
        table, new = self.tables[field], hashtable.UInt64Vector()
        ids = table.get_labels(column, new, len(table), -1)
        new = new.to_array()
        self.keys[field].append(new)
        for k in new[(new & LONG_BIT) != 0]:
            rows = np.flatnonzero(column == k)[:1]
            self.long_texts[field][int(k)] = chunk.texts(field, rows)[0]
        return ids, len(table)

    def observe(self, chunk, field, num_train):
        """Raw ids (int64) for ``field`` of ``chunk``; its first ``num_train`` rows are counted."""
        ids, size = self._raw_ids(chunk, field)
        counts = self.counts[field]
        if size > len(counts):
            grown = np.zeros(max(size, 2 * len(counts)), dtype=np.int64)
            grown[:len(counts)] = counts
            self.counts[field] = counts = grown
        if num_train:
            add_counts(counts, ids[:num_train], size, 1)
        return ids

    def uncount(self, field, raw_ids):
        """Take back the counts of hold-out rows (raw ids of ``field``)."""
        size = self._size(field)
        add_counts(self.counts[field], raw_ids, size, -1)

    def _texts(self, field, raw_ids):
        """Token text of the given raw ids (only kept ones are ever decoded)."""
        if self.ints[field]:
            return np.array(self.ints[field].tokens, dtype=object)[raw_ids]
        keys = np.concatenate(self.keys[field]) if self.keys[field] else np.zeros(0, np.uint64)
        return key_texts(keys[raw_ids], self.long_texts[field])

    def finish(self):
        """The ``VocabularyEncoder``: kept tokens numbered in sorted order; also
        builds the raw-id -> local index ``lookups``."""
        vocabularies, defaults, self._lookup = [], [], []
        for f in range(len(self.schema.fields)):
            size = self._size(f)
            kept = np.flatnonzero(self.counts[f][:size] >= self.min_threshold)
            texts = self._texts(f, kept)
            by_text = np.argsort(texts.astype(str), kind="stable")
            lookup = np.full(size, len(kept), dtype=np.int32)
            lookup[kept[by_text]] = np.arange(len(kept), dtype=np.int32)
            self._lookup.append(lookup)
            vocabularies.append({str(t): i for i, t in enumerate(texts[by_text])})
            defaults.append(len(kept))
        self.tables = self.keys = self.ints = None  # no longer needed
        return VocabularyEncoder(vocabularies, defaults, self.schema.field_names, self.schema.transforms,
                                 table=self.schema)

    def lookups(self):
        """Per field, raw id -> local index (int32); after ``finish``."""
        return self._lookup


class StreamingHashing:
    """Feature hashing as the chunks go by: ``observe`` returns final indices,
    offsets included, so nothing is remapped afterwards."""

    kind = "hash"

    def __init__(self, schema, num_buckets):
        self.encoder = HashingEncoder(num_buckets, schema.field_names, schema.transforms, table=schema)
        self.offsets = field_offsets(self.encoder.field_dims)
        self.ints = [_TransformedTokens(t) if t != "identity" else None for t in schema.transforms]

    def observe(self, chunk, field, num_train):
        """Feature indices (int64) of ``field`` in ``chunk``."""
        column = chunk.keys[field]
        if self.ints[field]:  # hash the token, not the raw text
            ids = self.ints[field].ids(chunk, field, column)
            column = token_keys(np.array(self.ints[field].tokens, dtype=object))[ids]
        return buckets(column, field, self.encoder.num_buckets) + self.offsets[field]

    def finish(self):
        return self.encoder

    def lookups(self):
        return None  # observed indices are final


def encode_chunk(encoder, chunk):
    """int32 (n, num_fields) feature indices of a chunk's valid lines under a
    fitted ``encoder`` (data/encoders.py), offsets added: the cells' own bytes
    (``Chunk.texts`` keeps every byte) go through the encoder's rule, so a
    line scores exactly as the same line was encoded in training."""
    out = np.empty((len(chunk), len(chunk.keys)), dtype=np.int32)
    for f, offset in enumerate(encoder.offsets):
        codes, distinct = pd.factorize(chunk.keys[f])
        first = np.empty(len(distinct), dtype=np.int64)
        first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)  # last write wins: first row
        out[:, f] = encoder.encode_factorized(f, codes, chunk.texts(f, first)) + offset
    return out

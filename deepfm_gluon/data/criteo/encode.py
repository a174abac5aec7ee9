"""Fitting an encoder to a Criteo file while its chunks stream by.

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

Integer fields are first mapped to their log^2 bucket token (data/tokens.py);
only distinct keys not seen before are decoded to text, so that costs little.
"""
import numpy as np
import pandas as pd
from pandas._libs import hashtable

from ..encoders import HashingEncoder, VocabularyEncoder
from ..tokens import LONG_BIT, buckets, integer_tokens, token_keys
from ..vocabulary import field_offsets
from .format import FIELD_NAMES, NUM_FIELDS, NUM_INT, TRANSFORMS


def key_texts(keys, long_texts):
    """Text of each key: packed keys decode directly, long ones from ``long_texts``."""
    keys = np.asarray(keys, dtype=np.uint64)
    packed = keys.view("S8")  # numpy strips the zero padding
    try:
        out = packed.astype(str).astype(object)
    except UnicodeDecodeError:  # non-ASCII bytes: decode one by one
        out = np.array([b.decode("utf-8", errors="replace") for b in packed], dtype=object)
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


class _IntegerTokens:
    """Key -> token id for one integer field: a C hash table from key to key id,
    and an array from key id to token id; only new keys are decoded."""

    def __init__(self):
        self.table = hashtable.UInt64HashTable()
        self.token_of_key = np.zeros(0, dtype=np.int64)
        self.token_ids, self.tokens = {}, []

    def ids(self, chunk, field, column):
        before, new = len(self.table), hashtable.UInt64Vector()
        key_ids = self.table.get_labels(column, new, before, -1)
        if len(self.table) > before:
            first = np.empty(len(self.table), dtype=np.int64)
            first[key_ids[::-1]] = np.arange(len(key_ids) - 1, -1, -1)  # last write wins: first row
            tokens = integer_tokens(chunk.texts(field, first[before:]))
            fresh = [self.token_ids.setdefault(tok, len(self.token_ids)) for tok in tokens]
            self.tokens = list(self.token_ids)  # dicts keep insertion order: index = token id
            self.token_of_key = np.concatenate([self.token_of_key, np.array(fresh, dtype=np.int64)])
        return self.token_of_key[key_ids]


class StreamingVocabulary:
    """Per-field token counts over the training rows; the book's min-count rule."""

    kind = "vocab"

    def __init__(self, min_threshold=4):
        self.min_threshold = int(min_threshold)
        self.tables = [hashtable.UInt64HashTable() for _ in range(NUM_FIELDS)]
        self.keys = [[] for _ in range(NUM_FIELDS)]
        self.long_texts = [{} for _ in range(NUM_FIELDS)]
        self.ints = [_IntegerTokens() for _ in range(NUM_INT)]
        self.counts = [np.zeros(0, dtype=np.int64) for _ in range(NUM_FIELDS)]
        self._lookup = None

    def _raw_ids(self, chunk, field):
        column = chunk.keys[field]
        if field < NUM_INT:
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
        size = len(self.ints[field].tokens) if field < NUM_INT else len(self.tables[field])
        add_counts(self.counts[field], raw_ids, size, -1)

    def _texts(self, field, raw_ids):
        """Token text of the given raw ids (only kept ones are ever decoded)."""
        if field < NUM_INT:
            return np.array(self.ints[field].tokens, dtype=object)[raw_ids]
        keys = np.concatenate(self.keys[field]) if self.keys[field] else np.zeros(0, np.uint64)
        return key_texts(keys[raw_ids], self.long_texts[field])

    def finish(self):
        """The ``VocabularyEncoder``: kept tokens numbered in sorted order; also
        builds the raw-id -> local index ``lookups``."""
        vocabularies, defaults, self._lookup = [], [], []
        for f in range(NUM_FIELDS):
            size = len(self.ints[f].tokens) if f < NUM_INT else len(self.tables[f])
            kept = np.flatnonzero(self.counts[f][:size] >= self.min_threshold)
            texts = self._texts(f, kept)
            by_text = np.argsort(texts.astype(str), kind="stable")
            lookup = np.full(size, len(kept), dtype=np.int32)
            lookup[kept[by_text]] = np.arange(len(kept), dtype=np.int32)
            self._lookup.append(lookup)
            vocabularies.append({str(t): i for i, t in enumerate(texts[by_text])})
            defaults.append(len(kept))
        self.tables = self.keys = self.ints = None  # no longer needed
        return VocabularyEncoder(vocabularies, defaults, FIELD_NAMES, TRANSFORMS)

    def lookups(self):
        """Per field, raw id -> local index (int32); after ``finish``."""
        return self._lookup


class StreamingHashing:
    """Feature hashing as the chunks go by: ``observe`` returns final indices,
    offsets included, so nothing is remapped afterwards."""

    kind = "hash"

    def __init__(self, num_buckets):
        self.encoder = HashingEncoder(num_buckets, FIELD_NAMES, TRANSFORMS)
        self.offsets = field_offsets(self.encoder.field_dims)
        self.ints = [_IntegerTokens() for _ in range(NUM_INT)]

    def observe(self, chunk, field, num_train):
        """Feature indices (int64) of ``field`` in ``chunk``."""
        column = chunk.keys[field]
        if field < NUM_INT:  # hash the bucket token, not the raw text
            ids = self.ints[field].ids(chunk, field, column)
            column = token_keys(np.array(self.ints[field].tokens, dtype=object))[ids]
        return buckets(column, field, self.encoder.num_buckets) + self.offsets[field]

    def finish(self):
        return self.encoder

    def lookups(self):
        return None  # observed indices are final

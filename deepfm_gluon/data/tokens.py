"""From a raw field value (text) to a token and a 64-bit key: the building
blocks of the encoders (data/encoders.py) and of the Criteo cache, in one
place so that both compute exactly the same thing. docs/encoder.md states
each rule for clients in other languages.

- Field transforms: ``identity`` (the token is the value) and
  ``criteo_integer`` (Criteo's integer fields: ``x > 2`` becomes
  ``"L" + floor(log(x)**2)``, other numbers their own value, the empty cell
  ``""``, text that is no number ``"?" + text``).
- Keys (for hashing): a token of at most 8 UTF-8 bytes is its bytes packed
  little-endian into a uint64; a longer one is pandas' SipHash of its text
  with the top bit set. Integer-field tokens are hashed with their own key.
- Buckets: ``mix64(key ^ mix64(field + 1)) % num_buckets`` (field 0-based).
"""
import math

import numpy as np

TRANSFORMS = ("identity", "criteo_integer")
LONG_BIT = np.uint64(1 << 63)
PANDAS_HASH_KEY = "0123456789123456"  # pandas' default hash_array key (long texts)
TOKEN_HASH_KEY = "deepfm-gluon-ctr"  # 16 bytes: the key for integer-field tokens


def _integer_token(raw, value):
    if raw == "":
        return ""
    if not math.isfinite(value):
        return "?" + raw  # not a (finite) number: kept as its own category, never dropped
    if value > 2:
        return f"L{int(math.floor(math.log(value) ** 2))}"
    return str(int(value)) if value == int(value) else repr(float(value))


def integer_tokens(raw_values):
    """Tokens (object array of str) of raw Criteo integer cells (sequence of str)."""
    # imported here to keep start-up fast: pandas costs ~0.2 s and the default data path does not need it
    import pandas as pd

    values = pd.to_numeric(pd.Series(raw_values, dtype=object), errors="coerce").to_numpy(np.float64)
    return np.array([_integer_token(r, v) for r, v in zip(raw_values, values)], dtype=object)


def apply_transform(name, values):
    """Tokens (object array of str) of ``values`` under the named field transform."""
    if name == "identity":
        return np.asarray(values, dtype=object)
    if name == "criteo_integer":
        return integer_tokens(values)
    raise ValueError(f"unknown field transform {name!r}; expected one of {TRANSFORMS}")


def mix64(x):
    """splitmix64's finalizer: a fixed, well-spread 64-bit hash of a uint64 array."""
    x = np.asarray(x, dtype=np.uint64)
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def long_text_keys(texts):
    """Keys of texts longer than 8 UTF-8 bytes (object array of str):
    mix64(SipHash-2-4 with pandas' key) with the top bit set."""
    # imported here to keep start-up fast: pandas costs ~0.2 s and the default data path does not need it
    import pandas as pd

    return pd.util.hash_array(np.asarray(texts, dtype=object), categorize=True) | LONG_BIT


def text_keys(texts):
    """Keys (uint64) of categorical cell texts (sequence of str), as the
    Criteo reader computes them from the bytes."""
    raw = [t.encode("utf-8") for t in texts]
    keys = np.array([int.from_bytes(b, "little") if len(b) <= 8 else 0 for b in raw], dtype=np.uint64)
    long = [i for i, b in enumerate(raw) if len(b) > 8]
    if long:
        keys[long] = long_text_keys([texts[i] for i in long])
    return keys


def token_keys(tokens):
    """Keys (uint64) of integer-field tokens: mix64(SipHash-2-4 keyed with
    ``TOKEN_HASH_KEY``) of each token's UTF-8 bytes."""
    # imported here to keep start-up fast: pandas costs ~0.2 s and the default data path does not need it
    import pandas as pd

    return pd.util.hash_array(np.asarray(tokens, dtype=object), hash_key=TOKEN_HASH_KEY,
                              categorize=False)


def buckets(keys, field, num_buckets):
    """Row (int64, 0 <= row < num_buckets) of each key in 0-based ``field``."""
    salted = np.asarray(keys, dtype=np.uint64) ^ mix64(np.full(1, field + 1, dtype=np.uint64))
    return (mix64(salted) % np.uint64(num_buckets)).astype(np.int64)

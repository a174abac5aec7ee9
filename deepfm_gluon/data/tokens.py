"""From a raw field value (text) to a token and a 64-bit key: the building
blocks of the encoders (data/encoders.py) and of the Criteo cache, in one
place so that both compute exactly the same thing. docs/encoder.md states
each rule for clients in other languages.

- Field transforms: ``identity`` (the token is the value) and
  ``criteo_integer`` (Criteo's integer fields: ``x > 2`` becomes
  ``"L" + floor(log(x)**2)``, other numbers their own value, the empty cell
  ``""``, text that is no number ``"?" + text``).
- ``hour_of_day`` and ``weekday`` (Avazu's ``hour`` column, YYMMDDHH, as
  FuxiCTR expands it): ``"HH"`` and the weekday ``"0"`` (Monday) .. ``"6"``;
  a value that is no such timestamp becomes ``"?" + value``.
- Bytes and text: a cell's text is its bytes decoded as UTF-8 with
  ``surrogateescape`` (``cell_text``), so bytes that are not UTF-8 survive as
  lone surrogates and ``cell_bytes`` gives the very same bytes back: training
  (which reads bytes) and scoring or serving (which get text) hash and look up
  the same bytes (docs/encoder.md).
- Keys (for hashing): a token of at most 8 bytes is its bytes packed
  little-endian into a uint64; a longer one is pandas' SipHash of its bytes
  with the top bit set. Non-identity tokens are hashed with their own key.
- Buckets: ``mix64(key ^ mix64(field + 1)) % num_buckets`` (field 0-based).
"""
import datetime
import math

import numpy as np

TRANSFORMS = ("identity", "criteo_integer", "hour_of_day", "weekday")
LONG_BIT = np.uint64(1 << 63)
PANDAS_HASH_KEY = "0123456789123456"  # pandas' default hash_array key (long texts)
TOKEN_HASH_KEY = "deepfm-gluon-ctr"  # 16 bytes: the key for integer-field tokens


def cell_text(data):
    """The text of a cell's bytes: UTF-8, bytes that are not UTF-8 kept as lone
    surrogates (``surrogateescape``), so ``cell_bytes`` undoes it exactly."""
    return bytes(data).decode("utf-8", errors="surrogateescape")


def cell_bytes(text):
    """The bytes of a cell's text: the inverse of ``cell_text``. Text that no
    bytes give (a lone surrogate other than U+DC80..U+DCFF, such as a JSON
    client's ``"\\ud800"``) raises UnicodeEncodeError: a hashing encoder
    cannot hash it (serving answers that request 422)."""
    return text.encode("utf-8", errors="surrogateescape")


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


def _hour_token(raw, weekday):
    """Avazu's YYMMDDHH as FuxiCTR's ``convert_hour`` / ``convert_weekday``."""
    if len(raw) == 8 and raw.isdigit():
        try:
            day = datetime.date(2000 + int(raw[:2]), int(raw[2:4]), int(raw[4:6]))
        except ValueError:
            day = None
        if day is not None and int(raw[6:]) < 24:
            return str(day.weekday()) if weekday else raw[6:]
    return "?" + raw


def apply_transform(name, values):
    """Tokens (object array of str) of ``values`` under the named field transform."""
    if name == "identity":
        return np.asarray(values, dtype=object)
    if name == "criteo_integer":
        return integer_tokens(values)
    if name in ("hour_of_day", "weekday"):
        return np.array([_hour_token(str(v), name == "weekday") for v in values], dtype=object)
    raise ValueError(f"unknown field transform {name!r}; expected one of {TRANSFORMS}")


def mix64(x):
    """splitmix64's finalizer: a fixed, well-spread 64-bit hash of a uint64 array."""
    x = np.asarray(x, dtype=np.uint64)
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def _as_bytes(values):
    return np.array([v if isinstance(v, bytes) else cell_bytes(v) for v in values], dtype=object)


def long_text_keys(values):
    """Keys of cells longer than 8 bytes (sequence of bytes, or str turned
    into bytes by ``cell_bytes``): mix64(SipHash-2-4 of the bytes with
    pandas' key) with the top bit set."""
    # imported here to keep start-up fast: pandas costs ~0.2 s and the default data path does not need it
    import pandas as pd

    return pd.util.hash_array(_as_bytes(values), categorize=True) | LONG_BIT


def text_keys(texts):
    """Keys (uint64) of categorical cell texts (sequence of str), as the
    table reader computes them from the bytes."""
    raw = [cell_bytes(t) for t in texts]
    keys = np.array([int.from_bytes(b, "little") if len(b) <= 8 else 0 for b in raw], dtype=np.uint64)
    long = [i for i, b in enumerate(raw) if len(b) > 8]
    if long:
        keys[long] = long_text_keys([raw[i] for i in long])
    return keys


def token_keys(tokens):
    """Keys (uint64) of integer-field tokens: mix64(SipHash-2-4 keyed with
    ``TOKEN_HASH_KEY``) of each token's UTF-8 bytes."""
    # imported here to keep start-up fast: pandas costs ~0.2 s and the default data path does not need it
    import pandas as pd

    return pd.util.hash_array(_as_bytes(tokens), hash_key=TOKEN_HASH_KEY, categorize=False)


def buckets(keys, field, num_buckets):
    """Row (int64, 0 <= row < num_buckets) of each key in 0-based ``field``."""
    salted = np.asarray(keys, dtype=np.uint64) ^ mix64(np.full(1, field + 1, dtype=np.uint64))
    return (mix64(salted) % np.uint64(num_buckets)).astype(np.int64)

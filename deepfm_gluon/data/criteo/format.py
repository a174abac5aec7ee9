"""The Criteo text layout, as a table schema (data/table/schema.py).

A line is ``label, I1..I13, C1..C26``: 40 columns, TAB-separated in Kaggle's
train.txt and the Terabyte day_N files; some copies (DeepCTR's sample) are
comma-separated with a header line naming the columns. Any value may be empty.

Integer fields are made categorical (data/tokens.py, transform
``criteo_integer``) the way the competition winners and FuxiCTR do it:
``x > 2`` becomes the bucket ``floor(log(x)**2)`` (token ``"L<bucket>"``),
``x <= 2`` (including -1, 0, 1, 2) is kept as its own value,
and an empty cell is its own value too. Writing "260.0" or "260" gives the
same token, so the tab and the comma copies encode alike.
"""
from ..table.schema import NUMERIC, Field, Schema, read_first_line

NUM_INT = 13
NUM_CAT = 26
NUM_FIELDS = NUM_INT + NUM_CAT
NUM_COLUMNS = 1 + NUM_FIELDS
FIELD_NAMES = [f"I{i}" for i in range(1, NUM_INT + 1)] + [f"C{i}" for i in range(1, NUM_CAT + 1)]
TRANSFORMS = [NUMERIC] * NUM_INT + ["identity"] * NUM_CAT  # per field, for the encoders

CRITEO = Schema("criteo", "label", tuple(Field(n, n, t) for n, t in zip(FIELD_NAMES, TRANSFORMS)),
                columns=("label", *FIELD_NAMES))


def detect_format(path, sep=None, header=None):
    """The ``Layout`` (``sep``, ``header``, ...) of a Criteo file, what was not
    given (None) decided from line 1: TAB if it has one, else comma; a header
    when line 1 names the columns (DeepCTR's sample starts ``label,I1,...``)."""
    schema = CRITEO if sep is None and header is None else Schema(
        CRITEO.source, CRITEO.label, CRITEO.fields, CRITEO.columns, sep, header)
    return schema.resolve(path, read_first_line(path))

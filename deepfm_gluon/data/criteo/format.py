"""The Criteo text layout: what a line holds and how integer fields become categories.

A line is ``label, I1..I13, C1..C26``: 40 columns, TAB-separated in Kaggle's
train.txt and the Terabyte day_N files; some copies (DeepCTR's sample) are
comma-separated with a header line. Any value may be empty.

Integer fields are made categorical (data/tokens.py, transform
``criteo_integer``) the way the competition winners and FuxiCTR do it:
``x > 2`` becomes the bucket ``floor(log(x)**2)`` (token ``"L<bucket>"``),
``x <= 2`` (including -1, 0, 1, 2) is kept as its own value,
and an empty cell is its own value too. Writing "260.0" or "260" gives the
same token, so the tab and the comma copies encode alike.
"""
import dataclasses

from ...errors import DataFormatError, DeepFMError
from ..tokens import integer_tokens  # noqa: F401  (the integer-field rule, shared with encoders)

NUM_INT = 13
NUM_CAT = 26
NUM_FIELDS = NUM_INT + NUM_CAT
NUM_COLUMNS = 1 + NUM_FIELDS
FIELD_NAMES = [f"I{i}" for i in range(1, NUM_INT + 1)] + [f"C{i}" for i in range(1, NUM_CAT + 1)]
TRANSFORMS = ["criteo_integer"] * NUM_INT + ["identity"] * NUM_CAT  # per field, for the encoders


@dataclasses.dataclass(frozen=True)
class CriteoFormat:
    """How a file is laid out: separator character and whether line 1 is a header."""

    sep: str = "\t"
    header: bool = False


def detect_format(path, sep=None, header=None):
    """Fill in what was not given (``None``) from the file's first line.

    Separator: TAB if the first line has one, else comma. Header: the first
    cell is not a 0/1 label (DeepCTR's sample starts with ``label,I1,...``).
    """
    try:
        with open(path, "rb") as f:
            first = f.readline(1 << 20)
    except FileNotFoundError:
        raise DeepFMError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DeepFMError(f"{path}: is a directory, expected a Criteo text file") from None
    if not first:
        raise DataFormatError(path, None, "the file is empty", "Criteo lines")
    text = first.decode("utf-8", errors="replace").rstrip("\r\n")
    if sep is None:
        sep = "\t" if "\t" in text else ","
    if header is None:
        header = text.split(sep, 1)[0] not in ("0", "1")
    return CriteoFormat(sep=sep, header=bool(header))

"""What the lines of a CTR table hold, as data: the source's ``Schema``, and
the ``Layout`` it takes in one file.

A ``Schema`` is what a data source declares (data/sources/): the label
column, the fields (each read from a column, through a transform of
data/tokens.py: ``identity`` for a categorical column, ``criteo_integer``
for a numeric one, bucketed by floor(log(x)^2) as Criteo's winners did,
``hour_of_day``/``weekday`` for Avazu's hour), the columns when the format
fixes them, the separator and whether line 1 is a header (None: decided
from the file). It travels in encoder.json, so a saved model reads raw
lines of its format with nothing but its own folder.

A ``Layout`` is a schema resolved against one file: the separator, whether
there is a header line, the column count, the label column (None: a file to
score without labels) and each field's column index. Line 1 is a header when
it names the columns (all field columns appear in it), never because its
first cell is not a number: a headerless line 1 with the label ``x`` is a
malformed line, reported like any other.
"""
import dataclasses
from typing import Optional

from ...errors import DataFormatError, DeepFMError
from ..tokens import cell_text

FIRST_LINE_BYTES = 1 << 20
NUMERIC = "criteo_integer"  # the transform of a numeric column: floor(log(x)**2) buckets


@dataclasses.dataclass(frozen=True)
class Field:
    """One model field: its ``name``, the ``column`` it is read from (a column
    name; in a headerless file without fixed columns, its 1-based number)
    and its ``transform``."""

    name: str
    column: str
    transform: str = "identity"


@dataclasses.dataclass(frozen=True)
class Layout:
    """A schema in one file: ``sep``, ``header`` (line 1 is skipped),
    ``num_columns`` per line, ``label`` column index (None: no label column)
    and ``field_columns`` (the column index of each field)."""

    sep: str
    header: bool
    num_columns: int
    label: Optional[int]
    field_columns: tuple
    names: tuple = ()

    def without_label(self):
        """The layout of the same lines with the label column left out."""
        if self.label is None:
            return self
        shift = tuple(c - (c > self.label) for c in self.field_columns)
        names = tuple(n for i, n in enumerate(self.names) if i != self.label)
        return dataclasses.replace(self, num_columns=self.num_columns - 1, label=None,
                                   field_columns=shift, names=names)


@dataclasses.dataclass(frozen=True)
class Schema:
    """A source's columns and fields (see the module docstring)."""

    source: str
    label: str
    fields: tuple
    columns: Optional[tuple] = None
    sep: Optional[str] = None
    header: Optional[bool] = None

    @property
    def field_names(self):
        return [f.name for f in self.fields]

    @property
    def transforms(self):
        return [f.transform for f in self.fields]

    def to_dict(self):
        """JSON form (encoder.json's ``table``)."""
        return {"source": self.source, "label": self.label,
                "columns": list(self.columns) if self.columns is not None else None,
                "sep": self.sep, "header": self.header,
                "field_columns": [f.column for f in self.fields]}

    @classmethod
    def from_dict(cls, data, field_names, transforms):
        """Inverse of ``to_dict`` (field names and transforms come from the
        encoder's own ``fields``); ValueError names what is wrong."""
        if not isinstance(data, dict) or not isinstance(data.get("label"), str):
            raise ValueError("'table' must be an object with a string 'label'")
        columns = data.get("field_columns")
        if not isinstance(columns, list) or len(columns) != len(field_names) or not all(
                isinstance(c, str) for c in columns):
            raise ValueError(f"'table.field_columns' must list {len(field_names)} column names")
        fixed = data.get("columns")
        if fixed is not None and (not isinstance(fixed, list) or not all(isinstance(c, str) for c in fixed)):
            raise ValueError("'table.columns' must be null or a list of column names")
        sep, header = data.get("sep"), data.get("header")
        if sep is not None and (not isinstance(sep, str) or len(sep.encode()) != 1 or sep in "\r\n"):
            raise ValueError(f"'table.sep' {sep!r}: expected null or one byte")
        if header is not None and not isinstance(header, bool):
            raise ValueError("'table.header' must be null, true or false")
        fields = tuple(Field(n, c, t) for n, c, t in zip(field_names, columns, transforms))
        return cls(str(data.get("source", "table")), data["label"], fields,
                   tuple(fixed) if fixed is not None else None, sep, header)

    def is_header(self, cells):
        """Whether line 1 (its cells) names the columns: it holds the label's
        or a field's column name (all of them, for numbered columns)."""
        names = {c.strip() for c in cells}
        wanted = [self.label] + [f.column for f in self.fields]
        if all(w.isdigit() for w in wanted):
            return all(w in names for w in wanted)
        return any(w in names for w in wanted)

    def resolve(self, path, first_line, width=None, need_label=True):
        """The ``Layout`` of a file whose line 1 is ``first_line`` (bytes).
        ``width``: the column count most lines have (for a headerless file
        without fixed columns); ``need_label``: a file without the label
        column is refused (training)."""
        text = cell_text(first_line.rstrip(b"\r\n"))
        if not text.strip():
            raise DataFormatError(path, 1, "the first line is empty", self.expected())
        sep = self.sep or ("\t" if "\t" in text else ",")
        cells = text.split(sep)
        header = self.is_header(cells) if self.header is None else self.header
        if header:
            names = tuple(c.strip() for c in cells)
        elif self.columns is not None:
            names = tuple(self.columns)
        else:
            names = tuple(str(i + 1) for i in range(width or len(cells)))
        missing = [f.column for f in self.fields if f.column not in names]
        if missing:
            where = "header" if header else "columns"
            shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
            raise DeepFMError(f"{path}: the {self.source} schema names column {missing[0]!r}, which is not in the "
                              f"file's {where} ({where}: {shown})")
        label = names.index(self.label) if self.label in names else None
        if label is None and need_label:
            raise DeepFMError(f"{path}: no label column {self.label!r} (the file's columns: "
                              f"{', '.join(names[:12])}{', ...' if len(names) > 12 else ''})")
        return Layout(sep, bool(header), len(names), label,
                      tuple(names.index(f.column) for f in self.fields), names)

    def expected(self):
        return f"{self.source} lines: a 0/1 {self.label!r} and {len(self.fields)} fields"


def read_first_line(path):
    """Line 1 of ``path`` (bytes, at most 1 MiB), with one-line errors."""
    try:
        with open(path, "rb") as f:
            first = f.readline(FIRST_LINE_BYTES)
    except FileNotFoundError:
        raise DeepFMError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DeepFMError(f"{path}: is a directory, expected a data file") from None
    if not first:
        raise DataFormatError(path, None, "the file is empty", "CTR lines")
    return first

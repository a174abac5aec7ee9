"""POST /predict bodies -> rows of raw field values, or one clear 4xx message.

Two bodies are accepted:
- ``application/json``: ``{"rows": [[v_1, ..., v_F], ...]}``, each value a string
  (the raw cell, as in the training file);
- ``text/tab-separated-values`` or ``text/plain``: raw lines, F tab-separated
  fields each, or label TAB F fields (the label is ignored), as ``predict`` reads;
  for a model of a table source (and ``text/csv``), raw lines of its format,
  placed into fields by its schema (``criteo_scoring.table_rows``).
"""
import json

from .criteo_scoring import table_rows

MAX_ERROR_VALUE_CHARS = 40  # a value quoted in an error message is cut to this many characters


class RequestError(Exception):
    """A client error: HTTP ``status`` and a message that says what was expected."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status, self.message = status, message


JSON_TYPES = ("application/json",)
TSV_TYPES = ("text/tab-separated-values", "text/plain")
CSV_TYPES = ("text/csv",)  # raw lines of a table model's format


def media_type(content_type):
    return (content_type or "").split(";")[0].strip().lower()


def parse_rows(body, content_type, num_fields, max_rows, table=None):
    """body: bytes -> list of rows (lists of num_fields str). ``table``: the
    model's table schema (data/table/schema.py), by which raw lines of its
    format (Criteo, Avazu, CSV) are placed into fields."""
    kind = media_type(content_type)
    if kind in JSON_TYPES:
        rows = parse_json_rows(body, num_fields)
    elif table is not None and kind in TSV_TYPES + CSV_TYPES:
        try:
            rows = table_rows(table, decode_text(body))
        except ValueError as err:
            raise RequestError(422, str(err)) from None
    elif kind in TSV_TYPES:
        rows = parse_tsv_rows(body, num_fields)
    else:
        raise RequestError(415, f"unsupported Content-Type {kind or '(none)'!r}; send "
                                "application/json ({\"rows\": [[...], ...]}) or "
                                "text/tab-separated-values (one line per row)")
    if len(rows) > max_rows:
        raise RequestError(413, f"{len(rows)} rows; at most {max_rows} per request")
    return rows


def decode_text(body):
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise RequestError(400, f"body is not UTF-8 (byte {err.start})") from None


class JsonNumber:
    """A JSON number, kept as its text: the rows hold strings only, so a number is
    refused by type, never converted (a 5,000-digit integer would raise in ``int``)."""

    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return self.text


def refuse_constant(name):
    """json's hook for NaN, Infinity and -Infinity, which JSON does not have."""
    raise RequestError(400, f"bad JSON: {name} is not a JSON value")


JSON_TYPE_NAMES = {JsonNumber: "number", bool: "boolean", type(None): "null", dict: "object",
                   list: "list", str: "string"}


def describe(value):
    """'number 12', 'null None', 'object {...}': a parsed JSON value for an error message."""
    return f"{JSON_TYPE_NAMES.get(type(value), type(value).__name__)} {value!r:.{MAX_ERROR_VALUE_CHARS}}"


def parse_json_rows(body, num_fields):
    """body: bytes of ``{"rows": [[v_1, ..., v_num_fields], ...]}`` -> list of
    rows, each a list of ``num_fields`` str raw values; RequestError (4xx) otherwise."""
    try:
        data = json.loads(decode_text(body), parse_int=JsonNumber, parse_float=JsonNumber,
                          parse_constant=refuse_constant)
    except json.JSONDecodeError as err:
        raise RequestError(400, f"bad JSON: {err.msg} at line {err.lineno} column {err.colno}") from None
    except RecursionError:
        raise RequestError(400, "bad JSON: nested too deeply") from None
    if not isinstance(data, dict) or "rows" not in data:
        raise RequestError(422, 'expected a JSON object {"rows": [[v_1, ..., v_%d], ...]}' % num_fields)
    rows = data["rows"]
    if not isinstance(rows, list):
        raise RequestError(422, f'"rows" must be a list of rows, got {describe(rows)}')
    for i, row in enumerate(rows):
        if not isinstance(row, list):
            raise RequestError(422, f"row {i}: expected a list of {num_fields} strings, got {describe(row)}")
        if len(row) != num_fields:
            raise RequestError(422, f"row {i}: {len(row)} fields; expected {num_fields}")
        for j, value in enumerate(row):
            if not isinstance(value, str):
                raise RequestError(422, f"row {i} field {j + 1}: expected a string (the raw "
                                        f"value), got {describe(value)}")
    return rows


def parse_tsv_rows(body, num_fields):
    """body: bytes of LF- (or CRLF-) terminated lines of ``num_fields`` tab-separated
    raw values, optionally after a 0/1 label -> list of rows, each a list of
    ``num_fields`` str; RequestError (422) naming the line otherwise."""
    text = decode_text(body)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    rows = []
    for i, line in enumerate(lines):
        cells = line[:-1].split("\t") if line.endswith("\r") else line.split("\t")
        if len(cells) == num_fields + 1 and cells[0] in ("0", "1"):
            cells = cells[1:]  # a labelled line, as in the training file
        elif len(cells) != num_fields:
            raise RequestError(422, f"line {i + 1}: {len(cells)} tab-separated columns; expected "
                                    f"{num_fields} fields (or a 0/1 label then {num_fields})")
        rows.append(cells)
    return rows

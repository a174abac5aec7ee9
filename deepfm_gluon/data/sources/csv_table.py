"""``--data csv:PATH``: any CTR table, with its schema given by flags:
``--label COL`` (0/1), ``--categorical COLS`` and ``--numeric COLS`` (comma-
separated; numeric columns are bucketed by floor(log(x)^2) as Criteo's
integers), ``--sep`` and ``--header``/``--no-header``. With a header, columns
are named; without one, they are 1-based numbers. Other columns are ignored.
The hold-out is the file's last 10% of lines."""
from ...errors import DeepFMError
from ..table.schema import NUMERIC, Field, Schema
from .spec import SourceSpec


def csv_schema(args, options):
    if not options.label or not (options.categorical or options.numeric):
        raise DeepFMError("--data csv:PATH needs a schema: --label COL and --categorical COLS "
                          "and/or --numeric COLS")
    fields = [Field(c, c) for c in options.categorical] + [Field(c, c, NUMERIC) for c in options.numeric]
    names = [f.name for f in fields]
    repeated = sorted({n for n in names if names.count(n) > 1} | ({options.label} & set(names)))
    if repeated:
        raise DeepFMError(f"--categorical/--numeric: column {repeated[0]!r} is named twice "
                          "(or is the label)")
    return Schema("csv", options.label, tuple(fields), sep=options.sep, header=options.header)


SOURCE = SourceSpec("csv", "csv:PATH", "any CTR table: --label, --categorical, --numeric, --sep, --header",
                    schema=csv_schema, takes_path=True, supports_hashing=True, time_ordered=True)

"""What a model says of itself to others (GET /metadata, an export's files):
never a file-system path of this machine (issue 21)."""
from ..data.sources.registry import split_prefix


def data_kind(name):
    """The training data as its kind, never a path: 'synthetic', 'ctr', a table
    source's name such as 'criteo', or 'files' for a folder of train.csv/test.csv."""
    name = str(name or "")
    found = split_prefix(name)
    if found:
        return found[0].name
    return name if name in ("synthetic", "ctr") else "files"

"""Errors a user can act on: the CLI prints them as one line, without a traceback."""


class DeepFMError(Exception):
    """Base class for every error that is the user's to fix (input, paths, flags)."""


class DataFormatError(DeepFMError):
    """A data file breaks the expected format; names the file and line."""

    def __init__(self, path, line, problem, expected=None):
        self.path, self.line, self.problem, self.expected = str(path), line, problem, expected
        where = f"{self.path}:{line}" if line is not None else self.path
        msg = f"{where}: {problem}"
        if expected:
            msg += f" (expected {expected})"
        super().__init__(msg)


class ModelDirError(DeepFMError):
    """A model directory is missing, of another kind or version, or inconsistent."""


def useful_line(text, limit=300):
    """The line of an error text a user can act on: MXNet's errors start with
    "Traceback (most recent call last):"; prefer its 'Check failed'/'Error'
    line, never a traceback header."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith(("Traceback", "File ", "[bt]", "Stack trace"))]
    for line in lines:
        if "Check failed" in line or "Error" in line:
            return line[:limit]
    return (lines[0] if lines else "unreadable")[:limit]


def format_problem(doc, fmt, version, what, reader, version_label="format version"):
    """Why the JSON document ``doc`` (any type) is not a ``fmt`` file of
    ``format_version`` ``version``, as one sentence naming ``what`` it should
    be (e.g. "deepfm-gluon model") and the ``reader`` that refuses it (e.g.
    "deepfm-gluon 0.1.0"); None when it is. The model directory and
    the encoder JSON share this check, so their messages agree."""
    found = doc.get("format") if isinstance(doc, dict) else None
    if found != fmt:
        return f"not a {what} (format {found!r})"
    if doc.get("format_version") != version:
        return (f"{version_label} {doc.get('format_version')!r}; "
                f"this {reader} reads version {version}")
    return None

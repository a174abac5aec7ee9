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

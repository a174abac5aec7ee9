"""Where a command may write a result file, and how, so that it never
clobbers its own input, a model, a device or a folder (docs/reliability.md).

``-`` and non-regular files (``/dev/stdout``, a FIFO, a terminal) are
streams: written in place, never replaced. A regular file is replaced only
atomically, and only with ``--force`` when it already exists.
"""
import os
import stat
import sys

from ..atomic import atomic_write, atomic_write_text
from ..errors import DeepFMError

STDOUT = "-"


def is_stream(path):
    """True for ``-`` and for existing paths that are not regular files or folders."""
    if path == STDOUT:
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def _inside(path, folder):
    folder = os.path.realpath(folder)
    return os.path.commonpath([path, folder]) == folder


def check_output(path, flag="--output", inputs=(), folders=(), force=False):
    """Raise a one-line DeepFMError if writing ``path`` could destroy
    something: one of ``inputs`` (files read by this command, symlinks
    resolved), a file inside one of ``folders`` (model directories), a
    folder, or an existing regular file without ``force``."""
    if is_stream(path):
        return
    real = os.path.realpath(path)
    if os.path.isdir(real):
        raise DeepFMError(f"{flag} {path}: is a directory; name a file")
    for item in inputs:
        if item != STDOUT and os.path.exists(item) and os.path.realpath(item) == real:
            raise DeepFMError(f"{flag} {path}: is the input file {item}; name another file")
    for folder in folders:
        if _inside(real, folder):
            raise DeepFMError(f"{flag} {path}: is inside the model directory {folder}; name a file elsewhere")
    if os.path.exists(real) and not force:
        raise DeepFMError(f"{flag} {path}: exists; pass --force to replace it")


def check_not_device(path, flag="--out"):
    """Refuse, in one line, an empty path and an existing device, FIFO or socket."""
    if not path:
        raise DeepFMError(f"{flag} '': an empty path; name a file")
    if os.path.exists(path) and is_stream(path):
        raise DeepFMError(f"{flag} {path}: not a regular file (a device, FIFO or socket); name a file")


def check_new_file(path, flag="--out", folders=(), force=False):
    """``check_output`` for a result that must be a regular file (an export),
    never a stream: also refuse an empty path, a device, FIFO or socket
    (``/dev/null``) and a missing parent folder, each in one line."""
    check_not_device(path, flag)
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise DeepFMError(f"{flag} {path}: the folder {parent} does not exist; create it first")
    check_output(path, flag, folders=folders, force=force)


def write_output(path, text):
    """Write ``text``: to stdout for ``-``, in place for a stream, else atomically
    to the symlink-resolved path (the link itself is kept)."""
    if path == STDOUT:
        sys.stdout.write(text)
        sys.stdout.flush()
    elif is_stream(path):
        with open(path, "w") as f:
            f.write(text)
    else:
        atomic_write_text(os.path.realpath(path), text)


def write_output_with(path, write):
    """``write_output`` for a producer that streams: ``write(file)`` gets an
    open text file (stdout for ``-``, the stream itself, else a temporary
    file that atomically replaces the symlink-resolved path)."""
    if path == STDOUT:
        write(sys.stdout)
        sys.stdout.flush()
    elif is_stream(path):
        with open(path, "w") as f:
            write(f)
    else:
        def to_file(tmp):
            with open(tmp, "w") as f:
                write(f)
        atomic_write(os.path.realpath(path), to_file)

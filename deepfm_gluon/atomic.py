"""Write files so that a crash mid-write never leaves a half-written one:
write beside the target, flush to disk, then rename over it."""
import errno
import json
import os
import stat
import tempfile

# A failed write with less free space than this is reported as a full disk.
FULL_DISK_BYTES = 1 << 20


def current_umask():
    """The process umask (reading it means setting it; set straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def full_disk_error(folder, path):
    """OSError(ENOSPC) naming ``path`` when ``folder``'s file system is
    (nearly) full, else None. MXNet reports a failed fwrite as "FileStream.Write
    incomplete"; this turns that into the reason a user can act on."""
    try:
        stats = os.statvfs(folder)
    except OSError:
        return None
    if stats.f_bavail * stats.f_frsize >= FULL_DISK_BYTES:
        return None
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)


def refuse_special_file(path):
    """OSError(EINVAL) if ``path`` exists and is not a regular file: renaming
    over a device, FIFO or socket replaces it (run as root, ``--out /dev/null``
    once turned the machine's /dev/null into a regular file)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return
    if not stat.S_ISREG(mode):
        raise OSError(errno.EINVAL, "not a regular file (a device, FIFO, socket or folder); "
                                    "refusing to replace it", path)


def atomic_write(path, write_fn):
    """Call ``write_fn(tmp_path)``, then move the result to ``path`` (which,
    if it exists, must be a regular file)."""
    refuse_special_file(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", dir=folder)
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes 0600; a model file is a normal file
        write_fn(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except Exception as err:
        full = None if isinstance(err, OSError) else full_disk_error(folder, path)
        if full is not None:
            raise full from None
        raise
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def atomic_write_json(path, data):
    def write(tmp):
        with open(tmp, "w") as f:
            json.dump(data, f, indent=1, sort_keys=True)
    return atomic_write(path, write)


def atomic_write_text(path, text):
    def write(tmp):
        with open(tmp, "w") as f:
            f.write(text)
    return atomic_write(path, write)

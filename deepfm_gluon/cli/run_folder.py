"""An --out folder a training run owns: refused when it holds another run
(unless --overwrite, which deletes that run's files first), and locked with
fcntl.flock so two runs never share it (docs/reliability.md)."""
import fcntl
import os
import shutil

from ..errors import DeepFMError

LOCK = ".lock"
# What `train` writes; --overwrite deletes these and nothing else.
RUN_FILES = ("checkpoints", "model.params", "meta.json", "mapping.json", "encoder.json",
             "history.json", "curves.png", "report.html", "explain", "calibration.json")


def holds_run(folder):
    return any(os.path.exists(os.path.join(folder, name)) for name in RUN_FILES)


def check_out_path(out):
    """Before training: --out must be a folder or a path that can become one."""
    if os.path.exists(out) and not os.path.isdir(out):
        raise DeepFMError(f"--out {out}: exists and is not a folder")


def lock_run_folder(out):
    """Create ``out`` and hold an exclusive lock on ``out/.lock``; returns the
    open lock file (keep it open for the run; closing it releases the lock)."""
    check_out_path(out)
    os.makedirs(out, exist_ok=True)
    handle = open(os.path.join(out, LOCK), "a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise DeepFMError(f"--out {out}: another training run is using this folder "
                          f"(it holds {os.path.join(out, LOCK)}); wait for it or pick another --out") from None
    return handle


def claim_run_folder(out, overwrite):
    """Lock ``out``; refuse it if it holds another run, or clear that run with ``overwrite``."""
    handle = lock_run_folder(out)
    if holds_run(out):
        if not overwrite:
            handle.close()
            raise DeepFMError(f"--out {out}: holds another run; pass --resume {out} to continue it "
                              "or --overwrite to delete it first")
        for name in RUN_FILES:
            path = os.path.join(out, name)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            elif os.path.lexists(path):
                os.remove(path)
    return handle

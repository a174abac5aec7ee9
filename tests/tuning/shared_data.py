"""Where the real Criteo samples are: ../shared/data/criteo beside the
repository (CI), else $DEEPFM_GLUON_SHARED/data/criteo (a worktree elsewhere)."""
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAD_6000 = "kaggle_train_head_6000.txt"


def shared_criteo(name):
    """The path of a shared Criteo sample, or skip naming what is missing."""
    folders = [ROOT / ".." / "shared" / "data" / "criteo"]
    if os.environ.get("DEEPFM_GLUON_SHARED"):
        folders.append(Path(os.environ["DEEPFM_GLUON_SHARED"]) / "data" / "criteo")
    for folder in folders:
        if (folder / name).is_file():
            return str((folder / name).resolve())
    pytest.skip(f"{name} not present in {' or '.join(map(str, folders))} (shared data, never copied here)")

"""Early stopping on a validation metric, FuxiCTR-style: stop after
``patience`` epochs without improvement and restore the best epoch's weights.

The test set never enters here: only validation numbers choose the epoch.
``EarlyStopping`` is plain state (JSON-ready, saved in checkpoints); where the
best weights live is ``BestWeights``' job (a file in the checkpoint folder, so
they survive a resume, or in a temporary folder; never a copy in memory).
"""
import os
import shutil
import tempfile

import numpy as np

from .. import gluon_compat
from .config import MONITORS


class EarlyStopping:
    """Track ``monitor`` ('auc': higher is better, 'logloss': lower is better)
    on validation. Stopping is FuxiCTR's rule: ``should_stop`` after
    ``patience`` epochs without a better value. Choosing is restricted to
    eligible epochs (the driver's rule: validation logloss better than the
    base rate's): ``best_epoch`` is the best eligible one (None if none), and
    ``update(epoch, value, eligible)`` returns True when ``epoch`` becomes it."""

    def __init__(self, patience, monitor="auc", best_epoch=None, best_value=None, wait=0,
                 peak_value=None):
        if monitor not in MONITORS:
            raise ValueError(f"monitor {monitor!r}: expected one of {sorted(MONITORS)}")
        self.patience, self.monitor = int(patience), monitor
        self.best_epoch, self.best_value, self.wait = best_epoch, best_value, wait
        self.peak_value = peak_value  # best value of any epoch: what patience counts from

    def better(self, value, than):
        if than is None:
            return bool(np.isfinite(value))
        return value > than if MONITORS[self.monitor] == "max" else value < than

    def update(self, epoch, value, eligible=True):
        """Record ``epoch``'s validation ``value``; True if it is the new chosen best."""
        if self.better(value, self.peak_value):
            self.peak_value, self.wait = float(value), 0
        else:
            self.wait += 1
        if eligible and self.better(value, self.best_value):
            self.best_epoch, self.best_value = int(epoch), float(value)
            return True
        return False

    @property
    def should_stop(self):
        return self.wait >= self.patience

    def state(self):
        return {"patience": self.patience, "monitor": self.monitor, "best_epoch": self.best_epoch,
                "best_value": self.best_value, "wait": self.wait, "peak_value": self.peak_value}

    @classmethod
    def from_state(cls, state):
        return cls(**state)


class BestWeights:
    """The best epoch's parameters of ``net``, on disk, never a second copy in
    memory (for a 39M-row table that copy is 3 GB): best-epoch-NNNN.params in
    ``folder`` (the checkpoint folder, so they survive a resume), written a
    parameter at a time into a staging file and renamed into place; the
    previous best is kept too, since the older retained checkpoint may point
    at it. ``folder=None`` (no checkpoints): a temporary folder, removed by
    ``close()``."""

    def __init__(self, net, folder=None):
        self.net = net
        self.temporary = folder is None
        self.folder = tempfile.mkdtemp(prefix="deepfm-best-") if folder is None else folder

    def path(self, epoch):
        return os.path.join(self.folder, f"best-epoch-{epoch:04d}.params")

    def save(self, epoch, previous=None):
        os.makedirs(self.folder, exist_ok=True)
        staging = self.path(epoch) + ".partial"
        gluon_compat.save_parameters_without_copies(self.net, staging)
        os.replace(staging, self.path(epoch))
        keep = {os.path.basename(self.path(e)) for e in (epoch, previous) if e is not None}
        for name in os.listdir(self.folder):
            if name.startswith("best-epoch-") and name not in keep:
                os.remove(os.path.join(self.folder, name))

    def restore(self, epoch):
        """Load the saved best parameters into ``net`` in place, wherever each
        one lives (a sparse run keeps its tables on the first device only)."""
        gluon_compat.load_parameters_in_place(self.net, self.path(epoch))

    def close(self):
        """Remove the temporary folder (a checkpoint folder stays)."""
        if self.temporary:
            shutil.rmtree(self.folder, ignore_errors=True)

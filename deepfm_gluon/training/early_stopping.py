"""Early stopping on a validation metric, FuxiCTR-style: stop after
``patience`` epochs without improvement and restore the best epoch's weights.

The test set never enters here: only validation numbers choose the epoch.
``EarlyStopping`` is plain state (JSON-ready, saved in checkpoints); where the
best weights live is ``BestWeights``' job (a file in the checkpoint folder, so
they survive a resume, or a copy in memory).
"""
import os

import numpy as np

from .. import gluon_compat

MONITORS = {"auc": "max", "logloss": "min"}


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
    """The best epoch's parameters of ``net``: in ``folder`` as
    best-epoch-NNNN.params (atomic rename; the previous best is kept too, since
    the older retained checkpoint may point at it), else in memory."""

    def __init__(self, net, folder=None):
        self.net, self.folder, self.memory = net, folder, None

    def path(self, epoch):
        return os.path.join(self.folder, f"best-epoch-{epoch:04d}.params")

    def save(self, epoch, previous=None):
        if self.folder is None:  # one copy of the weights in memory, overwritten by the next best
            params = self.net.collect_params().items()
            if self.memory is None:
                self.memory = {name: p.data().copy() for name, p in params}
            else:
                for name, p in params:
                    p.data().copyto(self.memory[name])
            return
        os.makedirs(self.folder, exist_ok=True)
        staging = self.path(epoch) + ".partial"
        gluon_compat.save_parameters_without_copies(self.net, staging)
        os.replace(staging, self.path(epoch))
        keep = {os.path.basename(self.path(e)) for e in (epoch, previous) if e is not None}
        for name in os.listdir(self.folder):
            if name.startswith("best-epoch-") and name not in keep:
                os.remove(os.path.join(self.folder, name))

    def restore(self, epoch):
        """Load the saved best parameters into ``net``, wherever each one lives
        (a sparse run keeps its tables on the first device only)."""
        if self.folder is None:
            for name, p in self.net.collect_params().items():
                for data in p.list_data():  # in place (set_data makes a temporary the size of each)
                    self.memory[name].copyto(data)
            return
        gluon_compat.load_parameters_in_place(self.net, self.path(epoch))

"""Training: the train_ch13-style loop, its fitters, metrics, devices, curves.

Layers inside: config, history, metrics, contexts (no model code) <- loop
(Fitter, evaluate) <- sparse (SparseFitter) <- driver (train_epochs, fit);
checkpoint sits beside loop. Nothing here imports distributed/.
"""
from .config import RunSpec, TrainConfig, is_dist_kvstore
from .contexts import parse_contexts
from .driver import fit, train_epochs
from .history import History
from .loop import Fitter, TrainingDiverged, evaluate, predict_logits
from .metrics import accuracy_at, d2l_accuracy, log_loss, log_loss_from_logits, roc_auc
from .plotting import plot_histories
from .sparse import SparseFitter

__all__ = ["Fitter", "History", "RunSpec", "SparseFitter", "TrainConfig", "TrainingDiverged",
           "accuracy_at", "d2l_accuracy", "evaluate", "fit", "is_dist_kvstore", "log_loss",
           "log_loss_from_logits", "parse_contexts", "plot_histories", "predict_logits", "roc_auc",
           "train_epochs"]

"""Training: the train_ch13-style loop, metrics, devices, curves."""
from .config import TrainConfig
from .contexts import parse_contexts
from .loop import Fitter, History, TrainingDiverged, evaluate, fit, predict_logits
from .metrics import accuracy_at, d2l_accuracy, log_loss, log_loss_from_logits, roc_auc
from .plotting import plot_histories

__all__ = ["Fitter", "History", "TrainConfig", "TrainingDiverged", "accuracy_at", "d2l_accuracy",
           "evaluate", "fit", "log_loss", "log_loss_from_logits", "parse_contexts",
           "plot_histories", "predict_logits", "roc_auc"]

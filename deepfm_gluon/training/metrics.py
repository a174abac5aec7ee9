"""CTR metrics on numpy arrays, plus d2l's accuracy for book-compat reports.

Every metric takes ``labels`` 0/1 of shape (n,) and scores of shape (n,)
(probabilities, or logits where the name says so) and returns a float."""
import numpy as np


def roc_auc(labels, scores):
    """Area under the ROC curve; tied scores count one half (Mann-Whitney U)."""
    labels = np.asarray(labels).ravel().astype(bool)
    scores = np.asarray(scores, dtype=np.float64).ravel()
    num_pos = int(labels.sum())
    num_neg = labels.size - num_pos
    if num_pos == 0 or num_neg == 0:
        return float("nan")
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    # Average rank (1-based) of each distinct score: ties share their mean rank.
    ends = np.cumsum(counts)
    mean_rank = ends - (counts - 1) / 2.0
    rank_sum = mean_rank[inverse][labels].sum()
    return float((rank_sum - num_pos * (num_pos + 1) / 2.0) / (num_pos * num_neg))


def log_loss_from_logits(labels, logits):
    """Mean binary cross-entropy, computed stably from logits."""
    y = np.asarray(labels, dtype=np.float64).ravel()
    z = np.asarray(logits, dtype=np.float64).ravel()
    return float(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))


def log_loss(labels, probs, eps=1e-7):
    """Mean binary cross-entropy of probabilities, clipped at ``eps``."""
    y = np.asarray(labels, dtype=np.float64).ravel()
    p = np.clip(np.asarray(probs, dtype=np.float64).ravel(), eps, 1 - eps)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def accuracy_at(labels, probs, threshold=0.5):
    """Share of examples whose thresholded probability equals the label."""
    y = np.asarray(labels).ravel()
    return float(np.mean((np.asarray(probs).ravel() > threshold) == (y > 0.5)))


def d2l_accuracy(labels, probs):
    """What ``d2l.accuracy`` computes on a one-column sigmoid output: the share
    of outputs exactly equal, as float32, to the label. It measures saturation
    (outputs rounded to exactly 0.0 or 1.0), not accuracy; kept only so
    book-compat runs can print the book's numbers."""
    y = np.asarray(labels, dtype=np.float32).ravel()
    return float(np.mean(np.asarray(probs, dtype=np.float32).ravel() == y))


def sigmoid(logits):
    z = np.asarray(logits, dtype=np.float64)
    return np.where(z >= 0, 1 / (1 + np.exp(-np.abs(z))), np.exp(-np.abs(z)) / (1 + np.exp(-np.abs(z))))

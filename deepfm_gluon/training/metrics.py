"""CTR metrics on numpy arrays, named once in ``METRICS``, plus d2l's accuracy
for book-compat reports.

Every metric takes ``labels`` 0/1 of shape (n,) and scores of shape (n,)
(probabilities, or logits where the name says so) and returns a float.

``METRICS`` is the one list of what a run reports: training records
(``test_<name>``, ``val_<name>`` per epoch in history.json), evaluate,
compare, reproduce, tune and serve's /metadata all read it, so a metric
added here appears everywhere.
"""
import dataclasses
from typing import Callable, Optional

import numpy as np

ECE_BINS = 10  # equal-mass bins of expected calibration error and the reliability diagram


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


def base_rate_entropy(labels):
    """Entropy (nats) of the click rate of 0/1 ``labels`` (n,): the logloss of
    always predicting that rate; NaN when the labels hold one class only."""
    y = np.asarray(labels, dtype=np.float64).ravel()
    rate = float(y.mean()) if y.size else float("nan")
    if not 0 < rate < 1:
        return float("nan")
    return float(-(rate * np.log(rate) + (1 - rate) * np.log(1 - rate)))


def normalized_entropy(labels, probs):
    """Normalized entropy (He et al. 2014, "Practical lessons from predicting
    clicks on ads at Facebook"): the logloss divided by the entropy of the
    base rate, where the base rate is the click rate of the evaluated set
    itself (``mean(labels)``). Below 1 the model beats always predicting that
    rate; NaN when the set has only one class (its entropy is 0)."""
    return log_loss(labels, probs) / base_rate_entropy(labels)


def calibration_ratio(labels, probs):
    """Predicted clicks over actual clicks: sum(probs) / sum(labels). 1 is
    calibrated on the whole; above 1 the model over-predicts. NaN without clicks."""
    clicks = float(np.sum(np.asarray(labels, dtype=np.float64)))
    return float(np.sum(np.asarray(probs, dtype=np.float64))) / clicks if clicks > 0 else float("nan")


def equal_mass_bins(labels, probs, bins=ECE_BINS):
    """Reliability-diagram bins: the n examples sorted by predicted
    probability, the one at rank r (0-based) in bin floor(r * bins / n), so
    bins hold n / bins examples each (sizes differ by at most one). Tied
    probabilities are never split: a tie takes the bin of its lowest rank
    (so the result does not depend on the order of the rows; a constant
    predictor has one bin). Empty bins are dropped. Returns three float64
    arrays (b,): mean prediction, observed click rate, count."""
    y = np.asarray(labels, dtype=np.float64).ravel()
    p = np.asarray(probs, dtype=np.float64).ravel()
    if not len(p):
        return np.empty(0), np.empty(0), np.empty(0)
    order = np.argsort(p, kind="stable")
    sorted_p = p[order]
    which = np.searchsorted(sorted_p, sorted_p, side="left") * bins // len(p)
    counts = np.bincount(which, minlength=bins).astype(np.float64)
    sum_p = np.bincount(which, weights=sorted_p, minlength=bins)
    sum_y = np.bincount(which, weights=y[order], minlength=bins)
    keep = counts > 0
    return sum_p[keep] / counts[keep], sum_y[keep] / counts[keep], counts[keep]


def expected_calibration_error(labels, probs, bins=ECE_BINS):
    """Expected calibration error over ``bins`` equal-mass bins
    (``equal_mass_bins``): sum over bins of (count / n) * |mean prediction -
    observed click rate|. 0 is perfectly calibrated per bin."""
    predicted, observed, counts = equal_mass_bins(labels, probs, bins)
    if not counts.sum():
        return float("nan")
    return float(np.sum(counts * np.abs(predicted - observed)) / counts.sum())


@dataclasses.dataclass(frozen=True)
class Metric:
    """One reported metric. ``name``: its key (records use ``test_<name>``,
    ``val_<name>``); ``label``: how tables and log lines show it;
    ``function(labels, probs) -> float``; ``higher_is_better``: True, False,
    or None when best is ``target`` (the calibration ratio's 1);
    ``format``: a format spec for text output."""

    name: str
    label: str
    function: Callable
    higher_is_better: Optional[bool]
    format: str = ".4f"
    target: Optional[float] = None
    description: str = ""

    def text(self, value):
        """``value`` in this metric's format ('-' for None, 'nan' for NaN)."""
        return "-" if value is None else format(value, self.format)

    def direction(self):
        """'higher', 'lower' or 'closest to 1' (the target), for tables."""
        if self.higher_is_better is None:
            return f"closest to {self.target:g}"
        return "higher" if self.higher_is_better else "lower"

    def better(self, a, b):
        """True when value ``a`` is strictly better than ``b``."""
        if self.higher_is_better is None:
            return abs(a - self.target) < abs(b - self.target)
        return a > b if self.higher_is_better else a < b


METRICS = (
    Metric("auc", "AUC", roc_auc, True, description="area under the ROC curve"),
    Metric("logloss", "logloss", log_loss, False, description="mean binary cross-entropy"),
    Metric("ne", "NE", normalized_entropy, False,
           description="normalized entropy: logloss / entropy of the evaluated set's click rate"),
    Metric("calibration", "calibration", calibration_ratio, None, target=1.0,
           description="predicted clicks / actual clicks"),
    Metric("ece", "ECE", expected_calibration_error, False,
           description=f"expected calibration error, {ECE_BINS} equal-mass bins"),
    Metric("acc", "acc", accuracy_at, True, format=".3f", description="accuracy at threshold 0.5"),
)
METRIC_NAMES = tuple(m.name for m in METRICS)


def get_metric(name):
    """The Metric called ``name``; an unknown name lists the known ones."""
    for metric in METRICS:
        if metric.name == name:
            return metric
    raise KeyError(f"unknown metric {name!r}; known: {', '.join(METRIC_NAMES)}")


def score(labels, probs, logits=None):
    """Every metric of ``METRICS`` on 0/1 ``labels`` (n,) and probabilities
    ``probs`` (n,): {name: float}. With ``logits`` (n,), logloss is computed
    from them (exact where a probability rounds to 0 or 1)."""
    scores = {m.name: m.function(labels, probs) for m in METRICS}
    if logits is not None:
        scores["logloss"] = log_loss_from_logits(labels, logits)
        scores["ne"] = scores["logloss"] / base_rate_entropy(labels)
    return scores


def prefixed(scores, prefix):
    """{prefix + name: value} for the METRICS keys of ``scores`` (e.g. 'test_')."""
    return {prefix + m.name: scores[m.name] for m in METRICS if m.name in scores}


def unprefixed(record, prefix):
    """{name: value} of the ``prefix + name`` keys of ``record`` (a history
    record or a chosen dict) for every metric of METRICS it holds."""
    return {m.name: record[prefix + m.name] for m in METRICS if prefix + m.name in record}


def format_scores(scores, prefix=""):
    """'AUC 0.7812, logloss 0.4521, ...' for the METRICS keys of ``scores``,
    each label preceded by ``prefix`` (e.g. 'test ')."""
    return ", ".join(f"{prefix}{m.label} {m.text(scores[m.name])}" for m in METRICS if m.name in scores)

"""Metrics against brute force and against d2l itself."""
import numpy as onp
from mxnet import np

from d2l import mxnet as d2l
from deepfm_gluon.training.metrics import (ECE_BINS, METRIC_NAMES, accuracy_at, calibration_ratio, d2l_accuracy,
                                           expected_calibration_error, format_scores, get_metric, log_loss,
                                           log_loss_from_logits, normalized_entropy, prefixed, roc_auc, score,
                                           sigmoid, unprefixed)


def brute_force_auc(labels, scores):
    pos = [s for s, y in zip(scores, labels) if y == 1]
    neg = [s for s, y in zip(scores, labels) if y == 0]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def test_auc_with_ties_equals_pair_counting():
    rng = onp.random.default_rng(0)
    for _ in range(20):
        labels = rng.integers(0, 2, 60)
        scores = rng.integers(0, 6, 60) / 5.0  # many ties
        assert abs(roc_auc(labels, scores) - brute_force_auc(labels, scores)) < 1e-12


def test_auc_edge_cases():
    assert roc_auc([0, 1], [0.1, 0.9]) == 1.0
    assert roc_auc([0, 1], [0.5, 0.5]) == 0.5
    assert onp.isnan(roc_auc([1, 1], [0.1, 0.2]))


def test_logloss_from_logits_matches_probabilities():
    rng = onp.random.default_rng(1)
    z = rng.normal(0, 3, 100)
    y = rng.integers(0, 2, 100)
    p = 1 / (1 + onp.exp(-z))
    expected = -onp.mean(y * onp.log(p) + (1 - y) * onp.log(1 - p))
    assert abs(log_loss_from_logits(y, z) - expected) < 1e-10
    assert abs(log_loss(y, p) - expected) < 1e-6
    assert onp.isfinite(log_loss_from_logits([1], [-1000.0]))
    onp.testing.assert_allclose(sigmoid(z), p)


def test_accuracy_at_half():
    assert accuracy_at([1, 0, 1, 0], [0.9, 0.2, 0.4, 0.6]) == 0.5


def test_d2l_accuracy_is_what_d2l_computes():
    probs = onp.array([[1.0], [0.0], [0.7], [1.0], [0.2]], dtype=onp.float32)
    labels = onp.array([[1.0], [0.0], [1.0], [0.0], [0.0]], dtype=onp.float32)
    expected = d2l.accuracy(np.array(probs), np.array(labels)) / len(labels)
    assert d2l_accuracy(labels, probs) == expected == 0.4


# Plain-numpy references, written here from the definitions (not from the package's code).

def reference_normalized_entropy(labels, probs):
    """He et al. 2014: logloss over the entropy of the evaluated set's own click rate."""
    y, p = onp.asarray(labels, float), onp.clip(onp.asarray(probs, float), 1e-7, 1 - 1e-7)
    logloss = -sum(yi * onp.log(pi) + (1 - yi) * onp.log(1 - pi) for yi, pi in zip(y, p)) / len(y)
    rate = sum(y) / len(y)
    return logloss / -(rate * onp.log(rate) + (1 - rate) * onp.log(1 - rate))


def reference_ece(labels, probs, bins):
    """Equal-mass bins by a Python loop: sort by probability; the example at
    rank r goes to bin r * bins // n, except that tied probabilities all go
    to the bin of the first of them."""
    pairs = sorted(zip(probs, labels), key=lambda t: t[0])
    n = len(pairs)
    groups = {}
    for r, (p, y) in enumerate(pairs):
        first = next(i for i, (q, _) in enumerate(pairs) if q == p)
        groups.setdefault(first * bins // n, []).append((p, y))
    total = 0.0
    for chunk in groups.values():
        mean_p = sum(p for p, _ in chunk) / len(chunk)
        mean_y = sum(y for _, y in chunk) / len(chunk)
        total += len(chunk) / n * abs(mean_p - mean_y)
    return total


def test_normalized_entropy_against_reference():
    rng = onp.random.default_rng(3)
    for _ in range(5):
        y = rng.integers(0, 2, 200)
        p = rng.uniform(0.01, 0.99, 200)
        assert abs(normalized_entropy(y, p) - reference_normalized_entropy(y, p)) < 1e-9
    rate = 0.3
    y = onp.array([1] * 3 + [0] * 7)
    assert abs(normalized_entropy(y, onp.full(10, rate)) - 1.0) < 1e-6  # the base rate itself scores 1
    assert onp.isnan(normalized_entropy([1, 1], [0.5, 0.5]))  # one class: entropy 0


def test_calibration_ratio_against_reference():
    y = onp.array([1, 0, 1, 0, 0])
    p = onp.array([0.9, 0.2, 0.4, 0.1, 0.3])
    assert abs(calibration_ratio(y, p) - (0.9 + 0.2 + 0.4 + 0.1 + 0.3) / 2) < 1e-12
    assert onp.isnan(calibration_ratio([0, 0], [0.1, 0.2]))


def test_ece_against_reference():
    rng = onp.random.default_rng(4)
    for n, bins in ((1000, 10), (37, 10), (5, 10), (250, 7)):
        y = rng.integers(0, 2, n)
        p = rng.uniform(0, 1, n)
        if n == 250:
            p = onp.round(p, 1)  # many ties
        expected = reference_ece(y, p, bins)
        assert abs(expected_calibration_error(y, p, bins) - expected) < 1e-12
    assert ECE_BINS == 10
    y = rng.random(20000) < onp.linspace(0.05, 0.95, 20000)
    assert expected_calibration_error(y, onp.linspace(0.05, 0.95, 20000)) < 0.02  # calibrated
    assert expected_calibration_error(y, onp.full(20000, 0.5)) < 0.01  # ties are one bin: |mean p - click rate|
    assert expected_calibration_error(y, onp.linspace(0.05, 0.95, 20000) ** 3) > 0.1


def test_score_names_every_metric_once():
    y = onp.array([0, 1, 1, 0, 1, 0, 0, 1])
    z = onp.array([-2.0, 1.0, 0.5, -0.3, 2.0, 0.1, -1.0, 0.2])
    p = sigmoid(z)
    scores = score(y, p, z)
    assert list(scores) == list(METRIC_NAMES) == ["auc", "logloss", "ne", "calibration", "ece", "acc"]
    assert abs(scores["ne"] - normalized_entropy(y, p)) < 1e-6
    assert abs(scores["logloss"] - log_loss(y, p)) < 1e-6
    assert prefixed(scores, "test_")["test_ece"] == scores["ece"]
    assert unprefixed(prefixed(scores, "val_"), "val_") == scores
    assert "NE " in format_scores(scores) and "ECE " in format_scores(scores, "test ")
    assert get_metric("auc").better(0.8, 0.7) and get_metric("logloss").better(0.3, 0.4)
    assert get_metric("calibration").better(0.98, 1.05)

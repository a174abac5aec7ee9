"""Metrics against brute force and against d2l itself."""
import numpy as onp
from mxnet import np

from d2l import mxnet as d2l
from deepfm_gluon.training.metrics import (accuracy_at, d2l_accuracy, log_loss, log_loss_from_logits,
                                           roc_auc, sigmoid)


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

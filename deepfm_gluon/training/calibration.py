"""Probability calibration fitted on the validation split (`train --calibrate`).

A calibrator maps the model's logit z to a calibrated click probability,
strictly increasing in z, so the ranking (and AUC) of distinct scores is
kept:

- ``platt`` (Platt 1999): p = sigmoid(a * z + b), a > 0, fitted by Newton's
  method on the validation logloss. A formula: it becomes two nodes of the
  ONNX graph.
- ``isotonic`` (pool adjacent violators, Zadrozny & Elkan 2002): the
  non-decreasing step function of z that best fits the validation labels,
  made strictly increasing so that it never ties two scores the model told
  apart: linear interpolation between the pooled blocks' mean logits, mixed
  with a sliver of the model's own probability,
  f(z) = (1 - MIX) * interp(z) + MIX * sigmoid(z), MIX = 1e-5. Outside the
  validation logits' range interp is flat, and the sigmoid keeps f rising:
  two logits whose float32 probabilities the model tells apart (they differ
  by at least 6e-8) stay apart by at least 6e-13 in float64, so no new tie.
  Not expressible in standard ONNX ops without a lookup loop: export and the
  onnxruntime engine refuse it in one line.

Stored as ``calibration.json`` in the model directory; JSON only, checked on load.
"""
import json
import math
import os

import numpy as np

from ..atomic import atomic_write_json
from ..errors import DeepFMError
from .metrics import log_loss_from_logits, sigmoid

CALIBRATION = "calibration.json"
FORMAT, FORMAT_VERSION = "deepfm-gluon-calibration", 1
METHODS = ("platt", "isotonic")
MIX = 1e-5


class Calibrator:
    """A fitted calibration: ``apply(logits) -> probabilities`` (float64 (n,))."""

    def __init__(self, method, params):
        self.method, self.params = method, params
        if method == "isotonic":
            self.knots_z = np.asarray(params["knots_logit"], dtype=np.float64)
            self.knots_p = np.asarray(params["knots_probability"], dtype=np.float64)

    def apply(self, logits):
        z = np.asarray(logits, dtype=np.float64).ravel()
        if self.method == "platt":
            return sigmoid(self.params["a"] * z + self.params["b"])
        return (1 - MIX) * np.interp(z, self.knots_z, self.knots_p) + MIX * sigmoid(z)

    def to_dict(self, extra=None):
        return {"format": FORMAT, "format_version": FORMAT_VERSION, "method": self.method, **self.params,
                **(extra or {})}


def fit_platt(logits, labels, iterations=50):
    """(a, b) minimizing the mean logloss of sigmoid(a * z + b) on 0/1
    ``labels``, by Newton's method from (1, 0), with a tiny ridge for
    separable data. a must come out positive (the model ranks better than
    chance on validation), else calibration would invert the ranking."""
    z = np.asarray(logits, dtype=np.float64).ravel()
    y = np.asarray(labels, dtype=np.float64).ravel()
    x = np.stack([z, np.ones_like(z)], axis=1)

    def loss(w):
        return log_loss_from_logits(y, x @ w) + 0.5e-8 * w @ w
    w = np.array([1.0, 0.0])
    for _ in range(iterations):
        p = sigmoid(x @ w)
        grad = x.T @ (p - y) / len(y) + 1e-8 * w
        hess = (x * (p * (1 - p))[:, None]).T @ x / len(y) + 1e-8 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        current, t = loss(w), 1.0
        while loss(w - t * step) > current and t > 1e-6:  # damped: Newton may overshoot far from the optimum
            t /= 2
        w = w - t * step
        if np.abs(t * step).max() < 1e-12:
            break
    if not w[0] > 0 or not np.isfinite(w).all():
        raise DeepFMError(f"--calibrate platt: the validation split gives slope {w[0]:.4g} <= 0 (the model "
                          "does not rank better than chance there); calibration would invert its ranking")
    return {"a": float(w[0]), "b": float(w[1])}


def pool_adjacent_violators(values, weights):
    """The non-decreasing fit of ``values`` (in their order) minimizing the
    weighted squared error: (block means, block weights, block sizes)."""
    means, totals, sizes = [], [], []
    for v, w in zip(values, weights):
        means.append(float(v))
        totals.append(float(w))
        sizes.append(1)
        while len(means) > 1 and means[-2] > means[-1]:
            w2, w1 = totals.pop(), totals.pop()
            m2, m1 = means.pop(), means.pop()
            s2, s1 = sizes.pop(), sizes.pop()
            means.append((m1 * w1 + m2 * w2) / (w1 + w2))
            totals.append(w1 + w2)
            sizes.append(s1 + s2)
    return np.array(means), np.array(totals), np.array(sizes)


def fit_isotonic(logits, labels):
    """Knots of the isotonic calibration: tied logits are one point (their
    click rate, their count as weight); PAV over them; each block becomes a
    knot at its mean logit with its click rate."""
    z = np.asarray(logits, dtype=np.float64).ravel()
    y = np.asarray(labels, dtype=np.float64).ravel()
    unique, inverse, counts = np.unique(z, return_inverse=True, return_counts=True)
    rates = np.bincount(inverse, weights=y) / counts
    means, _, sizes = pool_adjacent_violators(rates, counts)
    ends = np.cumsum(sizes)
    starts = ends - sizes
    knots_z = [float(np.average(unique[s:e], weights=counts[s:e])) for s, e in zip(starts, ends)]
    return {"knots_logit": knots_z, "knots_probability": [float(m) for m in means]}


def fit_calibration(method, logits, labels):
    """A Calibrator of ``method`` ('platt' or 'isotonic') fitted on validation logits and 0/1 labels."""
    if method not in METHODS:
        raise DeepFMError(f"--calibrate {method}: expected one of {', '.join(METHODS)}")
    if len(np.unique(np.asarray(labels))) < 2:
        raise DeepFMError(f"--calibrate {method}: the validation split holds one class only; nothing to fit")
    fit = fit_platt if method == "platt" else fit_isotonic
    return Calibrator(method, fit(logits, labels))


def save_calibration(model_dir, calibrator, extra=None):
    atomic_write_json(os.path.join(model_dir, CALIBRATION), calibrator.to_dict(extra))


def _finite_list(value, name, path):
    if not isinstance(value, list) or not value or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value):
        raise DeepFMError(f"{path}: {name}: expected a non-empty list of finite numbers")
    return value


def load_calibration(model_dir):
    """The Calibrator saved in ``model_dir``, or None when there is none;
    a damaged file is refused in one line naming it."""
    path = os.path.join(model_dir, CALIBRATION)
    if not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError) as err:
        raise DeepFMError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("format_version") != FORMAT_VERSION:
        raise DeepFMError(f"{path}: not a {FORMAT} file of version {FORMAT_VERSION}")
    method = data.get("method")
    if method == "platt":
        a, b = data.get("a"), data.get("b")
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in (a, b)) or not a > 0:
            raise DeepFMError(f"{path}: platt needs finite a > 0 and b")
        return Calibrator("platt", {"a": float(a), "b": float(b)})
    if method == "isotonic":
        z = _finite_list(data.get("knots_logit"), "knots_logit", path)
        p = _finite_list(data.get("knots_probability"), "knots_probability", path)
        if len(z) != len(p) or any(b < a for a, b in zip(z, z[1:])) or any(b < a for a, b in zip(p, p[1:])) \
                or not 0 <= p[0] <= p[-1] <= 1:
            raise DeepFMError(f"{path}: isotonic knots must be equally many, non-decreasing, in [0, 1]")
        return Calibrator("isotonic", {"knots_logit": z, "knots_probability": p})
    raise DeepFMError(f"{path}: method {method!r}: expected one of {', '.join(METHODS)}")

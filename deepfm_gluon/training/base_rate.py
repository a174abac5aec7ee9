"""The base-rate predictor: every line gets the training set's click rate.

It is the floor any saved model must clear. Early stopping only chooses an
epoch whose validation logloss beats it (training/driver.py); when no epoch
does, the net is turned into this predictor (embeddings and weights zero,
output bias logit(rate)) rather than saving a model worse than the mean.
"""
import math

import numpy as np

from ..errors import DeepFMError
from ..gluon_compat import params_by_structural_name


def base_rate(labels):
    """The click rate of 0/1 ``labels`` (n,), kept inside (1e-6, 1 - 1e-6)."""
    return float(min(max(np.mean(np.asarray(labels, dtype=np.float64)), 1e-6), 1 - 1e-6))


def base_rate_logloss(rate, labels):
    """Mean logloss of predicting ``rate`` for every one of the 0/1 ``labels``."""
    y = np.asarray(labels, dtype=np.float64)
    return float(-np.mean(y * math.log(rate) + (1 - y) * math.log(1 - rate))) if len(y) else float("nan")


def become_base_rate_predictor(net, rate, output_bias="linear_layer.bias"):
    """Make ``net`` output logit(``rate``) for every input: all parameters
    zero except ``output_bias`` (the dotted structural name of the bias that
    is the whole logit when every other parameter is zero: its ModelSpec's
    ``output_bias``; FM's and DeepFM's ``linear_layer.bias``)."""
    params = params_by_structural_name(net)
    if output_bias not in params:
        raise DeepFMError(f"the model has no parameter {output_bias!r} (its ModelSpec's output_bias); "
                          f"it cannot become the base-rate predictor")
    for param in params.values():
        param.set_data(param.data() * 0)
    bias = params[output_bias]
    bias.set_data(bias.data() * 0 + math.log(rate / (1 - rate)))

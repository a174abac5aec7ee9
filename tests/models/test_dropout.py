"""layers.Dropout: no operator at rate 0, otherwise Gluon's Dropout; same numbers either way."""
import mxnet as mx
import numpy as np
import pytest
from mxnet import autograd
from mxnet.gluon import nn

from deepfm_gluon.models import layers
from tests.models.test_inference import operators_per_call


def tower(dropout_class, rate, seed=0):
    mx.npx.set_np()
    mx.random.seed(seed)
    net = nn.HybridSequential()
    net.add(nn.Dense(8, "relu", in_units=6), dropout_class(rate), nn.Dense(1, in_units=8))
    net.initialize(mx.init.Xavier())
    net.hybridize(static_alloc=True, static_shape=True)
    return net


def outputs_and_grads(net, seed=1):
    mx.random.seed(seed)
    x = mx.np.array(np.random.default_rng(0).standard_normal((32, 6)).astype(np.float32))
    with autograd.record():
        out = net(x)
    out.backward()
    return out.asnumpy(), [p.grad().asnumpy() for p in net.collect_params().values()]


@pytest.mark.parametrize("rate", [0.0, 0.3])
def test_dropout_gives_gluons_outputs_and_gradients_bit_for_bit(rate):
    ours, theirs = outputs_and_grads(tower(layers.Dropout, rate)), outputs_and_grads(tower(nn.Dropout, rate))
    np.testing.assert_array_equal(ours[0], theirs[0])
    for a, b in zip(ours[1], theirs[1]):
        np.testing.assert_array_equal(a, b)


def test_dropout_at_rate_zero_runs_no_operator(monkeypatch):
    monkeypatch.setenv("MXNET_EXEC_BULK_EXEC_INFERENCE", "0")  # every operator counted (read when a graph is built)
    x = mx.np.ones((4, 6))
    ours, theirs = operators_per_call(tower(layers.Dropout, 0.0), x), operators_per_call(tower(nn.Dropout, 0.0), x)
    assert "_np_copy" in theirs and "_np_copy" not in ours
    assert sum(theirs.values()) - sum(ours.values()) == theirs["_np_copy"] == 1

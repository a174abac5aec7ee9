"""The fused multi-tensor Adam equals Gluon's per-parameter Adam (issue 22)."""
import mxnet as mx
import numpy as np
import pytest
from mxnet import autograd, gluon, init

from deepfm_gluon.models import DeepFM, LogitView
from deepfm_gluon.training import fused_adam  # noqa: F401  (registers 'fusedadam')


def train(optimizer, steps, wd=0.0, seed=3):
    mx.random.seed(seed)
    np.random.seed(seed)
    net = DeepFM([7, 11, 5, 13], num_factors=4, mlp_dims=[16, 8], drop_rate=0.0)
    net.initialize(init.Xavier())
    logits = LogitView(net)
    logits.hybridize()
    trainer = gluon.Trainer(net.collect_params(), optimizer, {"learning_rate": 0.01, "wd": wd})
    loss = gluon.loss.SigmoidBinaryCrossEntropyLoss()
    rng = np.random.default_rng(seed)
    offsets = np.cumsum([0, 7, 11, 5])
    for _ in range(steps):
        X = mx.np.array(rng.integers(0, [7, 11, 5, 13], size=(64, 4)) + offsets, dtype=np.int32)
        y = mx.np.array(rng.integers(0, 2, size=64), dtype=np.float32)
        with autograd.record():
            l = loss(logits(X), y)
        l.backward()
        trainer.step(64)
    # by position: Gluon's global name counters differ between the two nets
    return {i: p.data().asnumpy() for i, p in enumerate(net.collect_params().values())}, trainer


def test_fused_adam_equals_per_parameter_adam_after_100_steps():
    plain, _ = train("adam", 100)
    fused, trainer = train("fusedadam", 100)
    assert trainer._optimizer.aggregate_num > 0  # the Updater hands it lists
    assert plain.keys() == fused.keys()
    for key in plain:
        np.testing.assert_allclose(fused[key], plain[key], rtol=0, atol=1e-6)


def test_weight_decay_falls_back_to_adams_own_update():
    plain, _ = train("adam", 20, wd=1e-3)
    fused, _ = train("fusedadam", 20, wd=1e-3)
    for key in plain:
        np.testing.assert_allclose(fused[key], plain[key], rtol=0, atol=1e-6)


@pytest.mark.parametrize("count", [1, 45, 46, 100])
def test_lists_longer_than_one_operator_takes_are_split(count):
    opt = mx.optimizer.create("fusedadam", learning_rate=0.1)
    updater = mx.optimizer.get_updater(opt)
    reference = mx.optimizer.get_updater(mx.optimizer.create("adam", learning_rate=0.1))
    weights = [mx.nd.array(np.full((3,), i, dtype=np.float32)) for i in range(count)]
    ref_weights = [w.copy() for w in weights]
    grads = [mx.nd.array(np.arange(3, dtype=np.float32) + i) for i in range(count)]
    updater(list(range(count)), grads, weights)
    for i in range(count):
        reference(i, grads[i], ref_weights[i])
    for w, r in zip(weights, ref_weights):
        np.testing.assert_allclose(w.asnumpy(), r.asnumpy(), rtol=0, atol=1e-6)

"""Several contexts on one machine: the same parameters as one context.

Two CPU contexts stand in for two GPUs: the batch is split in halves, each
half's gradient computed separately and summed by the 'device' kvstore, so
only float rounding may differ. FM and DeepFM without dropout are exact
(dropout draws per context, so DeepFM's default drop_rate=0.1 differs by
design).
"""
import numpy as np
import pytest

from deepfm_gluon import gluon_compat
from deepfm_gluon.models import build_model
from deepfm_gluon.training.config import TrainConfig
from deepfm_gluon.training.driver import fit


def _train(kind, split, devices, **model):
    net = build_model(kind, split.train.field_dims, **model)
    config = TrainConfig(epochs=2, batch_size=512, devices=devices, progress=False)
    history = fit(net, kind, split.train, split.test, config, log=None)
    return {name: p.data().asnumpy() for name, p in gluon_compat.params_by_structural_name(net).items()}, history


@pytest.mark.parametrize("kind, model", [("fm", {}), ("deepfm", {"drop_rate": 0.0})])
def test_two_cpu_contexts_match_one(weak_signal_split, kind, model):
    one, h1 = _train(kind, weak_signal_split, "cpu", **model)
    two, h2 = _train(kind, weak_signal_split, "cpu:2", **model)
    assert h2.devices == ["cpu(0)", "cpu(1)"]
    assert sorted(one) == sorted(two)
    for name in one:
        np.testing.assert_allclose(two[name], one[name], rtol=1e-4, atol=1e-5, err_msg=name)
    assert abs(h1.last()["test_auc"] - h2.last()["test_auc"]) < 1e-3

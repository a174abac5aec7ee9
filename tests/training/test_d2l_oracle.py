"""Book-compat training steps against d2l's own train_batch_ch13 (the oracle)."""
import mxnet as mx
import numpy as onp
import pytest
from mxnet import gluon, np

from d2l import mxnet as d2l
from deepfm_gluon import gluon_compat
from deepfm_gluon.models import build_model
from deepfm_gluon.training import TrainConfig
from deepfm_gluon.training.contexts import parse_contexts
from deepfm_gluon.training.loop import Fitter


@pytest.mark.parametrize("devices", ["cpu", "cpu:2"])
def test_book_compat_step_equals_d2l_train_batch_ch13(small_split, devices):
    field_dims = small_split.train.field_dims
    X = small_split.train.features[:256]
    y = small_split.train.labels[:256].reshape(-1, 1)
    config = TrainConfig(book_compat=True, devices=devices, progress=False, hybridize=False)
    fitter = Fitter(build_model("fm", field_dims), "fm", config)
    fitter.initialize()
    start = {k: p.data().asnumpy() for k, p in gluon_compat.params_by_structural_name(fitter.net).items()}

    contexts = parse_contexts(devices)
    reference = build_model("fm", field_dims)
    reference.initialize(ctx=contexts)
    for name, param in gluon_compat.params_by_structural_name(reference).items():
        param.set_data(np.array(start[name]))
    trainer = gluon.Trainer(reference.collect_params(), "adam", {"learning_rate": 0.02})
    loss_sum, acc_sum = d2l.train_batch_ch13(reference, np.array(X), np.array(y),
                                             gluon.loss.SigmoidBinaryCrossEntropyLoss(), trainer, contexts)

    sums, seen = fitter.train_epoch([(X, y)], epoch=1)
    assert seen == 256
    assert abs(sums["loss"] - loss_sum) < 1e-3
    assert sums["d2l"] == float(acc_sum)
    ours = gluon_compat.params_by_structural_name(fitter.net)
    for name, param in gluon_compat.params_by_structural_name(reference).items():
        for ctx in contexts:
            onp.testing.assert_allclose(ours[name].data(ctx).asnumpy(), param.data(ctx).asnumpy(), atol=1e-6)

"""The training loop: correct by default, the book's behaviour on request,
repeatable, and the book's CPU crash fixed."""
import dataclasses

import mxnet as mx
import numpy as onp
import pytest
from mxnet import gluon, np

from deepfm_gluon import gluon_compat
from deepfm_gluon.models import build_model
from deepfm_gluon.training import TrainConfig, fit
from deepfm_gluon.training.contexts import parse_contexts
from deepfm_gluon.training.loop import Fitter, TrainingDiverged

QUICK = TrainConfig(epochs=2, progress=False)


def params_of(net):
    return {k: p.data().asnumpy() for k, p in gluon_compat.params_by_structural_name(net).items()}


def test_no_gpu_falls_back_to_cpu():
    if mx.context.num_gpus() == 0:
        assert parse_contexts() == [mx.cpu()]
    assert parse_contexts("cpu:2") == [mx.cpu(0), mx.cpu(1)]


@pytest.mark.parametrize("kind", ["fm", "deepfm"])
def test_same_seed_same_history_and_parameters(small_split, kind):
    runs = []
    for _ in range(2):
        net = build_model(kind, small_split.train.field_dims)
        history = fit(net, kind, small_split.train, small_split.test, QUICK, log=None)
        runs.append(([{k: v for k, v in r.items() if "sec" not in k and "seconds" not in k}
                      for r in history.epochs], params_of(net)))
    assert runs[0][0] == runs[1][0]
    for name, value in runs[0][1].items():
        onp.testing.assert_array_equal(value, runs[1][1][name])


def test_history_records_every_metric(small_split):
    net = build_model("deepfm", small_split.train.field_dims)
    history = fit(net, "deepfm", small_split.train, small_split.test, QUICK, log=None)
    assert history.mode == "correct" and len(history.epochs) == 2
    record = history.last()
    for key in ("train_loss", "train_acc", "test_acc", "test_auc", "test_logloss", "examples_per_sec"):
        assert onp.isfinite(record[key])
    assert record["test_auc"] > 0.55


def test_correct_mode_loss_sees_logits_once(small_split):
    """One step's loss equals BCE on the logits, computed by hand."""
    fitter = Fitter(build_model("fm", small_split.train.field_dims), "fm", QUICK)
    fitter.initialize()
    X, y = small_split.train.features[:64], small_split.train.labels[:64].reshape(-1, 1)
    xb, yb = np.array(X, dtype="int32"), np.array(y)
    loss, _ = fitter.objective(xb, yb)  # the step's own forward pass (training/objective.py)
    z = fitter.logit_net(xb).asnumpy()
    expected = onp.maximum(z, 0) - z * y + onp.log1p(onp.exp(-onp.abs(z)))
    onp.testing.assert_allclose(loss.asnumpy(), expected.ravel(), rtol=1e-5, atol=1e-6)


def test_book_compat_reproduces_the_double_sigmoid_and_d2l_accuracy(small_split):
    config = dataclasses.replace(QUICK, book_compat=True, epochs=1)
    fitter = Fitter(build_model("fm", small_split.train.field_dims), "fm", config)
    fitter.initialize()
    X, y = small_split.train.features[:64], small_split.train.labels[:64].reshape(-1, 1)
    xb, yb = np.array(X, dtype="int32"), np.array(y)
    loss, _ = fitter.objective(xb, yb)  # the step's own forward pass (training/objective.py)
    probs = fitter.net(xb)
    book_loss = gluon.loss.SigmoidBinaryCrossEntropyLoss()(probs, yb)
    onp.testing.assert_allclose(loss.asnumpy(), book_loss.asnumpy())
    # the double sigmoid: the loss is BCE of sigmoid(probability), never below log(1+e^-1)
    assert loss.asnumpy().min() >= onp.log1p(onp.exp(-1.0)) - 1e-6
    history = fit(build_model("fm", small_split.train.field_dims), "fm", small_split.train,
                  small_split.test, config, log=None)
    assert history.mode == "book-compat" and "book_train_acc" in history.last()


def test_nan_loss_stops_naming_epoch_and_batch(small_split):
    config = dataclasses.replace(QUICK, lr=1e30, optimizer="sgd", epochs=3)
    net = build_model("fm", small_split.train.field_dims)
    with pytest.raises(TrainingDiverged, match=r"epoch \d+, batch \d+"):
        fit(net, "fm", small_split.train, small_split.test, config, log=None)


def test_two_cpu_contexts_train(small_split):
    config = dataclasses.replace(QUICK, devices="cpu:2", epochs=1)
    net = build_model("fm", small_split.train.field_dims)
    history = fit(net, "fm", small_split.train, small_split.test, config, log=None)
    assert history.devices == ["cpu(0)", "cpu(1)"] and onp.isfinite(history.last()["train_loss"])


def test_fit_works_without_numpy_mode_set_by_the_caller(small_split):
    """A library user who never called npx.set_np() still trains."""
    from mxnet import npx
    npx.reset_np()
    try:
        net = build_model("fm", small_split.train.field_dims)
        history = fit(net, "fm", small_split.train, small_split.test, dataclasses.replace(QUICK, epochs=1), log=None)
        assert onp.isfinite(history.last()["train_loss"])
    finally:
        npx.set_np()


def test_unsupported_combinations_are_clear_errors(small_split):
    from deepfm_gluon.errors import DeepFMError
    net = build_model("fm", small_split.train.field_dims)
    with pytest.raises(DeepFMError, match="resume needs a checkpoint directory"):
        fit(net, "fm", small_split.train, small_split.test, QUICK, log=None, resume=True)
    with pytest.raises(DeepFMError, match="DistributedSparseFitter"):
        fit(net, "fm", small_split.train, small_split.test, dataclasses.replace(QUICK, sparse=True),
            log=None, kvstore="dist_sync")
    with pytest.raises(DeepFMError, match="DistributedFitter"):  # a dist kvstore needs its fitter
        Fitter(net, "fm", QUICK, kvstore="dist_sync").initialize()

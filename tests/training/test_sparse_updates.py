"""Sparse (compact-twin, row_sparse lazy) updates against dense training."""
import mxnet as mx
import numpy as np
import pytest
from mxnet import npx

from deepfm_gluon import gluon_compat
from deepfm_gluon.data.batches import BatchIterator
from deepfm_gluon.errors import DeepFMError
from deepfm_gluon.models import build_model
from deepfm_gluon.training.config import TrainConfig
from deepfm_gluon.training.driver import fit
from deepfm_gluon.training.loop import Fitter
from deepfm_gluon.training.sparse import SparseFitter

DIMS = [70, 50, 110, 30]


def data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    offsets = np.concatenate([[0], np.cumsum(DIMS)[:-1]])
    X = rng.integers(0, 30, (n, len(DIMS))) + offsets
    return X.astype(np.int64), rng.integers(0, 2, n).astype(np.float32)


def params(net):
    return {k: v.data().asnumpy().copy() for k, v in gluon_compat.params_by_structural_name(net).items()}


def train(cls, kind, optimizer, epochs=1, batches=None, devices="cpu", row_sparse=False, **model):
    npx.set_np()
    net = build_model(kind, DIMS, **model)
    config = TrainConfig(epochs=1, batch_size=16, lr=0.1, optimizer=optimizer, progress=False,
                         devices=devices)
    fitter = cls(net, kind, config)
    fitter.initialize()
    if row_sparse:  # the tables' updates through MXNet's row_sparse kernels, as before the row path
        fitter.tables.by_rows = False
    start = params(net)
    X, y = data()
    it = BatchIterator(X, y, 16, shuffle=True, last_batch="rollover", seed=0)
    for epoch in range(epochs):
        batch_list = list(it)[:batches] if batches else it
        fitter.train_epoch(batch_list, epoch + 1)
    return start, params(net)


@pytest.mark.parametrize("kind,model", [("fm", {}), ("deepfm", {"drop_rate": 0.0})])
def test_sgd_sparse_equals_dense(kind, model):
    start, dense = train(Fitter, kind, "sgd", epochs=2, **model)
    _, sparse = train(SparseFitter, kind, "sgd", epochs=2, **model)
    assert set(dense) == set(sparse) and "embedding.weight" in dense
    for name in dense:
        assert np.abs(dense[name] - start[name]).max() > 0, name  # it did train
        np.testing.assert_allclose(sparse[name], dense[name], atol=1e-5, rtol=0, err_msg=name)


@pytest.mark.parametrize("kind,model", [("fm", {}), ("deepfm", {"drop_rate": 0.0})])
def test_sparse_on_two_devices_equals_one_device(kind, model):
    """Each device's compact gradients, summed row by row, make one lazy update."""
    start, one = train(SparseFitter, kind, "sgd", epochs=2, **model)
    _, two = train(SparseFitter, kind, "sgd", epochs=2, devices="cpu:2", **model)
    for name in one:
        assert np.abs(one[name] - start[name]).max() > 0, name
        np.testing.assert_allclose(two[name], one[name], atol=1e-5, rtol=0, err_msg=name)


def test_lazy_adam_touches_only_batch_rows():
    X, _ = data()
    it = BatchIterator(X, np.zeros(len(X), np.float32), 16, shuffle=True, last_batch="rollover", seed=0)
    first_batch = next(iter(it))[0]
    start, dense = train(Fitter, "fm", "adam", batches=1)
    _, sparse = train(SparseFitter, "fm", "adam", batches=1)
    # First step: Adam moves every row with a nonzero gradient by about lr, others not at all,
    # so lazy and dense Adam agree exactly.
    for name in dense:
        np.testing.assert_allclose(sparse[name], dense[name], atol=1e-5, rtol=0, err_msg=name)
    touched = np.unique(first_batch)
    moved = np.flatnonzero(np.abs(sparse["embedding.weight"] - start["embedding.weight"]).max(axis=1))
    assert set(moved) <= set(touched) and len(moved) > 0
    # Later steps: rows absent from a batch keep their weights under lazy Adam.
    _, lazy = train(SparseFitter, "fm", "adam", epochs=2)
    seen = np.unique(X)
    unseen = np.setdiff1d(np.arange(sum(DIMS)), seen)
    np.testing.assert_array_equal(lazy["embedding.weight"][unseen], start["embedding.weight"][unseen])


def test_fit_dispatches_on_config_and_guards():
    npx.set_np()
    X, y = data(256)

    class Split:
        features, labels, field_dims = X, y, np.array(DIMS)
    net = build_model("fm", DIMS)
    history = fit(net, "fm", Split, Split, TrainConfig(epochs=2, batch_size=32, progress=False,
                                                       devices="cpu", sparse=True), log=None)
    assert len(history.epochs) == 2 and history.config["sparse"] is True
    assert history.epochs[-1]["train_loss"] < history.epochs[0]["train_loss"] + 0.05
    with pytest.raises(DeepFMError, match="--book-compat"):
        fit(build_model("fm", DIMS), "fm", Split, Split,
            TrainConfig(epochs=1, batch_size=32, progress=False, sparse=True, book_compat=True), log=None)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
@pytest.mark.parametrize("kind,model", [("fm", {}), ("deepfm", {"drop_rate": 0.0})])
def test_row_updates_equal_row_sparse_kernels_bit_for_bit(optimizer, kind, model, monkeypatch):
    """Gathered state rows, the dense operator, scattered back: the same bits as
    MXNet's lazy row_sparse update, without building a row_sparse array (whose
    copies wait for the backward pass)."""
    _, reference = train(SparseFitter, kind, optimizer, epochs=2, row_sparse=True, **model)

    def no_row_sparse(*args, **kwargs):
        raise AssertionError("a row_sparse array was built (a synchronous copy per table per step)")
    monkeypatch.setattr(mx.nd.sparse, "row_sparse_array", no_row_sparse)
    start, rows = train(SparseFitter, kind, optimizer, epochs=2, **model)
    for name in reference:
        assert np.abs(rows[name] - start[name]).max() > 0, name
        np.testing.assert_array_equal(rows[name], reference[name], err_msg=name)

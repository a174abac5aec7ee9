"""Validation splits, early stopping with real best-weight restore (also
across a resume), and the embedding L2 penalty against plain numpy."""
import dataclasses
import os
import numpy as np
import pytest
from mxnet import npx

from deepfm_gluon import gluon_compat
from deepfm_gluon.data.batches import BatchIterator
from deepfm_gluon.data.sources import with_validation
from deepfm_gluon.data.validation import split_random_712, split_time
from deepfm_gluon.errors import DeepFMError
from deepfm_gluon.models import build_model
from deepfm_gluon.training.config import TrainConfig
from deepfm_gluon.training.driver import fit
from deepfm_gluon.training.early_stopping import BestWeights, EarlyStopping
from deepfm_gluon.training.loop import Fitter
from deepfm_gluon.training.sparse import SparseFitter


def params(net):
    return {k: v.data().asnumpy().copy() for k, v in gluon_compat.params_by_structural_name(net).items()}


def test_early_stopping_counts_patience_both_ways():
    auc = EarlyStopping(2, "auc")
    assert [auc.update(e, v) for e, v in enumerate([0.6, 0.7, 0.69, 0.71, 0.70, 0.70], 1)] == \
        [True, True, False, True, False, False]
    assert auc.best_epoch == 4 and auc.should_stop
    loss = EarlyStopping.from_state(EarlyStopping(1, "logloss").state())
    assert loss.update(1, 0.5) and not loss.update(2, 0.6) and loss.should_stop and loss.best_epoch == 1


def test_validation_share_is_seeded_disjoint_and_complete(small_split):
    a, b = with_validation(small_split, 0.1, seed=3), with_validation(small_split, 0.1, seed=3)
    np.testing.assert_array_equal(a.validation.index, b.validation.index)
    assert len(a.validation) == 300 and len(a.train) == 2700 and a.test is small_split.test
    assert not set(a.train.index) & set(a.validation.index)
    np.testing.assert_array_equal(a.validation.features, small_split.train.features[a.validation.index])
    other = with_validation(small_split, 0.1, seed=4)
    assert not np.array_equal(a.validation.index, other.validation.index)
    with pytest.raises(DeepFMError, match="criteo"):
        with_validation(small_split, mode="random")


def test_time_and_random_712_splits(small_split):
    train, validation = split_time(small_split.train, 0.1, total=3600)
    assert len(validation) == 360 and validation.index[0] == len(train) == 2640
    tr, va, te = split_random_712(small_split.train, small_split.test, seed=2018)
    assert (len(tr), len(va), len(te)) == (2520, 720, 360)
    assert len(set(tr.index) | set(va.index) | set(te.index)) == 3600


def run_fit(split, checkpoint_dir=None, resume=False, epochs=12, patience=2, snapshots=None, **options):
    npx.set_np()
    net = build_model("deepfm", split.train.field_dims)
    config = TrainConfig(epochs=epochs, batch_size=256, progress=False, devices="cpu", early_stop=patience)
    config = dataclasses.replace(config, **options)
    on_epoch = (lambda f, r: snapshots.__setitem__(r["epoch"], params(f.net))) if snapshots is not None else None
    history = fit(net, "deepfm", split.train, split.test, config, log=None, validation_data=split.validation,
                  checkpoint_dir=checkpoint_dir, resume=resume, on_epoch=on_epoch)
    return net, history


def test_early_stop_restores_the_best_validation_weights(small_split):
    split = with_validation(small_split)
    snapshots = {}
    net, history = run_fit(split, snapshots=snapshots)
    chosen, records = history.chosen, history.epochs
    best = max(records, key=lambda r: r["val_auc"])
    assert chosen["epoch"] == best["epoch"] < len(records) <= 12
    assert all(r["val_auc"] <= best["val_auc"] for r in records[best["epoch"]:])  # patience ran out
    assert len(records) == best["epoch"] + 2 or len(records) == 12
    restored = params(net)
    for name, value in snapshots[best["epoch"]].items():  # the parameters, not only the numbers
        np.testing.assert_array_equal(restored[name], value, err_msg=name)
    assert chosen["test_auc"] == pytest.approx(best["test_auc"], abs=1e-12)
    assert chosen["val_auc"] == best["val_auc"] and "test_logloss" in records[0]


@pytest.mark.parametrize("where", ["temporary", "checkpoints"])
def test_sparse_run_on_two_devices_restores_its_best_weights(small_split, tmp_path, where):
    """The tables live on the first device only; the restore puts each
    parameter back where it lives (from the best-epoch file, in a temporary
    folder without checkpoints)."""
    split = with_validation(small_split)
    snapshots = {}
    folder = str(tmp_path) if where == "checkpoints" else None
    net, history = run_fit(split, checkpoint_dir=folder, epochs=6, snapshots=snapshots, sparse=True,
                           devices="cpu:2")
    best = history.chosen["epoch"]
    assert 1 <= best <= len(history.epochs)
    restored = params(net)
    for name, value in snapshots[best].items():
        np.testing.assert_array_equal(restored[name], value, err_msg=name)


def test_the_best_weights_are_a_file_never_a_second_copy_in_memory(small_split, tmp_path, monkeypatch):
    """Without checkpoints the best epoch goes to a temporary folder, written
    and read in place; BestWeights holds no array, and the folder is gone after."""
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    npx.set_np()
    net = build_model("fm", [5, 7])
    net.initialize()
    best = BestWeights(net)
    best.save(1)
    assert os.path.isfile(best.path(1)) and os.path.dirname(best.path(1)).startswith(str(tmp_path))
    assert sorted(vars(best)) == ["folder", "net", "temporary"]  # no array copy kept beside the file
    saved = params(net)
    for param in net.collect_params().values():
        param.data()[:] = 0
    best.restore(1)
    for name, value in params(net).items():
        np.testing.assert_array_equal(value, saved[name], err_msg=name)
    best.close()
    assert os.listdir(tmp_path) == []
    run_fit(with_validation(small_split), epochs=3)  # a whole run leaves no temporary folder
    assert os.listdir(tmp_path) == []


def test_early_stop_needs_validation(small_split):
    with pytest.raises(DeepFMError, match="validation"):
        net = build_model("fm", small_split.train.field_dims)
        fit(net, "fm", small_split.train, small_split.test,
            TrainConfig(epochs=1, progress=False, devices="cpu", early_stop=1), log=None)


def test_best_weights_survive_resume(small_split, tmp_path):
    split = with_validation(small_split)
    whole_net, whole = run_fit(split, checkpoint_dir=str(tmp_path / "a"))
    stop_at = whole.chosen["epoch"]  # interrupted after the best epoch, before stopping
    run_fit(split, checkpoint_dir=str(tmp_path / "b"), epochs=stop_at + 1)
    resumed_net, resumed = run_fit(split, checkpoint_dir=str(tmp_path / "b"), resume=True)
    assert resumed.chosen == whole.chosen
    for name, value in params(whole_net).items():
        np.testing.assert_array_equal(params(resumed_net)[name], value, err_msg=name)


DIMS = [20, 30, 40]


@pytest.mark.parametrize("fitter_class", [Fitter, SparseFitter])
def test_embedding_l2_one_sgd_step_matches_numpy(fitter_class):
    """One SGD step with and without the penalty: the difference is
    -lr * l2 * w on the rows the batch touches, in both tables, and 0 elsewhere."""
    rng = np.random.default_rng(0)
    offsets = np.concatenate([[0], np.cumsum(DIMS)[:-1]])
    X = (rng.integers(0, 10, (16, 3)) + offsets).astype(np.int64)
    y = rng.integers(0, 2, 16).astype(np.float32)
    lr, l2, after = 0.1, 0.05, {}
    for penalty in (0.0, l2):
        npx.set_np()
        net = build_model("fm", DIMS)
        config = TrainConfig(epochs=1, batch_size=16, lr=lr, optimizer="sgd", progress=False,
                             devices="cpu", embedding_l2=penalty)
        fitter = fitter_class(net, "fm", config)
        fitter.initialize()
        start = params(net)
        batches = BatchIterator(X, y, 16, shuffle=False, last_batch="rollover", seed=0)
        fitter.train_epoch(list(batches), 1)
        after[penalty] = params(net)
    touched = np.unique(X)
    for name in ("embedding.weight", "fc.weight"):
        expected = np.zeros_like(start[name])
        expected[touched] = -lr * l2 * start[name][touched]  # the numpy oracle
        np.testing.assert_allclose(after[l2][name] - after[0.0][name], expected, atol=2e-6, err_msg=name)


def test_ineligible_epochs_count_for_patience_but_are_never_chosen():
    stopper = EarlyStopping(2, "auc")
    assert not stopper.update(1, 0.60, eligible=False)
    assert stopper.update(2, 0.58) and stopper.best_epoch == 2 and stopper.wait == 1
    assert stopper.update(3, 0.59) and stopper.best_epoch == 3 and stopper.should_stop  # 0.60 was the peak

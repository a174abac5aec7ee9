"""Checkpoints written in a background thread are the foreground ones (issue 22)."""
import json
import os

import mxnet as mx
import numpy as np
import pytest

from deepfm_gluon.data.batches import BatchIterator
from deepfm_gluon.models import build_model
from deepfm_gluon.training import checkpoint
from deepfm_gluon.training.config import TrainConfig
from deepfm_gluon.training.loop import Fitter

FIELDS = [7, 11, 5, 13]


def fitter_after_one_epoch():
    rng = np.random.default_rng(0)
    X = rng.integers(0, FIELDS, (256, 4)) + np.cumsum([0] + FIELDS[:-1])
    y = rng.integers(0, 2, 256).astype(np.float32)
    fitter = Fitter(build_model("deepfm", FIELDS), "deepfm", TrainConfig(progress=False, batch_size=64, seed=1))
    fitter.initialize()
    batches = BatchIterator(X, y, 64, shuffle=True, last_batch="rollover", seed=1)
    fitter.train_epoch(batches, 1)
    fitter.history.epochs.append({"epoch": 1})
    return fitter, batches, X, y


def read(folder):
    path = os.path.join(folder, "epoch-0001")
    params = {k: v.asnumpy() for k, v in mx.nd.load(os.path.join(path, "model.params")).items()}
    states = {k: v.asnumpy() for k, v in mx.nd.load(os.path.join(path, "optimizer.states")).items()}
    with open(os.path.join(path, "state.json")) as f:
        return params, states, json.load(f)


def test_background_checkpoint_is_the_foreground_one_despite_later_steps(tmp_path):
    fitter, batches, X, y = fitter_after_one_epoch()
    checkpoint.save_checkpoint(str(tmp_path / "fg"), fitter, batches)
    writer = checkpoint.CheckpointWriter(str(tmp_path / "bg"))
    writer.save(fitter, batches)
    assert writer._thread is not None  # written by the thread
    for _ in range(3):  # training goes on and changes every array the snapshot copied
        fitter.step(X[:64], y[:64])
    writer.wait()
    fg, bg = read(tmp_path / "fg"), read(tmp_path / "bg")
    assert fg[0].keys() == bg[0].keys() and fg[1].keys() == bg[1].keys() and fg[2] == bg[2]
    for a, b in zip([*fg[0].values(), *fg[1].values()], [*bg[0].values(), *bg[1].values()]):
        np.testing.assert_array_equal(a, b)
    with open(tmp_path / "fg" / "epoch-0001" / "model.params", "rb") as f, \
            open(tmp_path / "bg" / "epoch-0001" / "model.params", "rb") as g:
        assert f.read() == g.read()
    assert json.loads((tmp_path / "bg" / "latest.json").read_text())["epoch"] == 1


def test_a_failed_background_write_is_raised_by_wait_and_the_next_save(tmp_path, monkeypatch):
    fitter, batches, _, _ = fitter_after_one_epoch()
    monkeypatch.setattr(checkpoint, "_write", lambda folder, snapshot: (_ for _ in ()).throw(OSError("disk gone")))
    writer = checkpoint.CheckpointWriter(str(tmp_path))
    writer.save(fitter, batches)
    with pytest.raises(OSError, match="disk gone"):
        writer.save(fitter, batches)  # waits for the previous write first
    writer.wait()  # raised once
    writer.save(fitter, batches)
    with pytest.raises(OSError, match="disk gone"):
        writer.wait()


def test_large_snapshots_and_foreground_writers_write_before_save_returns(tmp_path, monkeypatch):
    fitter, batches, _, _ = fitter_after_one_epoch()
    monkeypatch.setattr(checkpoint, "BACKGROUND_BYTES", 1000)
    writer = checkpoint.CheckpointWriter(str(tmp_path / "large"))
    writer.save(fitter, batches)
    assert writer._thread is None and os.path.exists(tmp_path / "large" / "latest.json")
    monkeypatch.undo()
    writer = checkpoint.CheckpointWriter(str(tmp_path / "fg"), background=False)
    writer.save(fitter, batches)
    assert writer._thread is None and os.path.exists(tmp_path / "fg" / "latest.json")

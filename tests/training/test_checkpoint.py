"""Checkpoints: atomic, and a run killed with SIGKILL mid-training resumes to
exactly the parameters of an uninterrupted run."""
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
import types

import mxnet as mx
import numpy as onp
import pytest

from deepfm_gluon import gluon_compat
from deepfm_gluon.errors import DeepFMError
from deepfm_gluon.models import build_model
from deepfm_gluon.training import TrainConfig, fit
from deepfm_gluon.training.checkpoint import read_latest, trainer_param_names

CONFIG = TrainConfig(epochs=4, progress=False)


def params_of(net):
    return {k: p.data().asnumpy() for k, p in gluon_compat.params_by_structural_name(net).items()}


def test_resume_in_process_is_bit_exact(small_split, tmp_path):
    full = build_model("deepfm", small_split.train.field_dims)
    history = fit(full, "deepfm", small_split.train, small_split.test, CONFIG, log=None)
    first = build_model("deepfm", small_split.train.field_dims)
    fit(first, "deepfm", small_split.train, small_split.test, dataclasses.replace(CONFIG, epochs=2),
        log=None, checkpoint_dir=str(tmp_path))
    resumed = build_model("deepfm", small_split.train.field_dims)
    history2 = fit(resumed, "deepfm", small_split.train, small_split.test, CONFIG, log=None,
                   checkpoint_dir=str(tmp_path), resume=True)
    for name, value in params_of(full).items():
        onp.testing.assert_array_equal(value, params_of(resumed)[name])
    assert [r["test_auc"] for r in history.epochs] == [r["test_auc"] for r in history2.epochs]


@pytest.mark.parametrize("sparse", [False, True])
def test_resume_after_other_blocks_were_built_matches_states_by_name(small_split, tmp_path, sparse):
    """Gluon names blocks by process-wide counters and its Trainer orders
    parameters by those names: 'dense9' < 'dense10' flips once a process has
    built ten Dense blocks. The optimizer states still go to their parameters."""
    config = dataclasses.replace(CONFIG, epochs=3, sparse=sparse)
    with mx.name.NameManager():
        full = build_model("deepfm", small_split.train.field_dims)
        fit(full, "deepfm", small_split.train, small_split.test, config, log=None)
    with mx.name.NameManager():
        fit(build_model("deepfm", small_split.train.field_dims), "deepfm", small_split.train,
            small_split.test, dataclasses.replace(config, epochs=1), log=None, checkpoint_dir=str(tmp_path))
    with mx.name.NameManager():
        others = [mx.gluon.nn.Dense(1) for _ in range(9)]  # this model's Dense blocks: dense9, dense10, ...
        resumed = build_model("deepfm", small_split.train.field_dims)
        fit(resumed, "deepfm", small_split.train, small_split.test, config, log=None,
            checkpoint_dir=str(tmp_path), resume=True)
    assert len(others) == 9 and any("dense10" in p.name for p in resumed.collect_params().values())
    for name, value in params_of(full).items():
        onp.testing.assert_array_equal(value, params_of(resumed)[name], err_msg=name)


@pytest.mark.parametrize("kind, optimizer, devices", [("deepfm", "adam", None), ("fm", "sgd", None),
                                                      ("fm", "adam", "cpu:2")])
def test_sparse_resume_in_process_is_bit_exact(small_split, tmp_path, kind, optimizer, devices, monkeypatch):
    """Lazy Adam's moments and update counts of the tables are in the checkpoint;
    they are read back one array at a time, into the states (no whole-file load)."""
    config = dataclasses.replace(CONFIG, epochs=3, sparse=True, optimizer=optimizer, devices=devices)
    full = build_model(kind, small_split.train.field_dims)
    history = fit(full, kind, small_split.train, small_split.test, config, log=None)
    fit(build_model(kind, small_split.train.field_dims), kind, small_split.train, small_split.test,
        dataclasses.replace(config, epochs=1), log=None, checkpoint_dir=str(tmp_path))
    monkeypatch.setattr(mx.nd, "load", None)
    monkeypatch.setattr(mx.npx, "load", None)
    resumed = build_model(kind, small_split.train.field_dims)
    history2 = fit(resumed, kind, small_split.train, small_split.test, config, log=None,
                   checkpoint_dir=str(tmp_path), resume=True)
    for name, value in params_of(full).items():
        onp.testing.assert_array_equal(value, params_of(resumed)[name])
    assert [r["test_auc"] for r in history.epochs] == [r["test_auc"] for r in history2.epochs]


def test_sparse_and_dense_checkpoints_do_not_mix(small_split, tmp_path):
    fit(build_model("fm", small_split.train.field_dims), "fm", small_split.train, small_split.test,
        dataclasses.replace(CONFIG, epochs=1), log=None, checkpoint_dir=str(tmp_path))
    with pytest.raises(DeepFMError, match="checkpoint of a dense run; resume it without --sparse"):
        fit(build_model("fm", small_split.train.field_dims), "fm", small_split.train, small_split.test,
            dataclasses.replace(CONFIG, epochs=2, sparse=True), log=None,
            checkpoint_dir=str(tmp_path), resume=True)


def test_only_complete_checkpoints_are_latest(small_split, tmp_path):
    net = build_model("fm", small_split.train.field_dims)
    fit(net, "fm", small_split.train, small_split.test, dataclasses.replace(CONFIG, epochs=3), log=None,
        checkpoint_dir=str(tmp_path))
    path, state = read_latest(str(tmp_path))
    assert state["epoch"] == 3 and path.endswith("epoch-0003")
    assert sorted(d for d in os.listdir(tmp_path) if d.startswith("epoch-")) == ["epoch-0002", "epoch-0003"]
    # a half-written checkpoint (as a crash leaves it) is ignored
    os.makedirs(tmp_path / ".checkpoint-crashed")
    (tmp_path / ".checkpoint-crashed" / "model.params").write_bytes(b"\0\0")
    assert read_latest(str(tmp_path))[1]["epoch"] == 3


def test_no_checkpoint_is_a_clear_error(small_split, tmp_path):
    net = build_model("fm", small_split.train.field_dims)
    with pytest.raises(DeepFMError, match="no checkpoint to resume from"):
        fit(net, "fm", small_split.train, small_split.test, CONFIG, log=None, checkpoint_dir=str(tmp_path), resume=True)


def cli(*args, cwd):
    return [sys.executable, "-m", "deepfm_gluon", "train", *args]


def load_params(path):
    return {k: v.asnumpy() for k, v in mx.nd.load(str(path)).items()}


@pytest.mark.parametrize("extra", [[], ["--sparse"]], ids=["dense", "sparse"])
def test_sigkill_mid_training_then_resume_matches_uninterrupted(small_data_dir, tmp_path, extra):
    common = ["--model", "deepfm", "--data", small_data_dir, "--epochs", "5", "--batch-size", "64", "--seed", "3",
              *extra]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run(cli(*common, "--out", str(tmp_path / "full"), cwd=tmp_path), check=True, env=env,
                   capture_output=True, timeout=300)
    victim = tmp_path / "killed"
    proc = subprocess.Popen(cli(*common, "--out", str(victim), cwd=tmp_path), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    latest = victim / "checkpoints" / "latest.json"
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        if latest.exists() and json.loads(latest.read_text())["epoch"] >= 2:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "training finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert not (victim / "model.params").exists()
    done = subprocess.run([sys.executable, "-m", "deepfm_gluon", "train", "--resume", str(victim)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "resumed from" in done.stdout
    full, resumed = load_params(tmp_path / "full" / "model.params"), load_params(victim / "model.params")
    assert full.keys() == resumed.keys()
    for name in full:
        onp.testing.assert_array_equal(full[name], resumed[name])


def test_divergence_keeps_the_last_good_checkpoint(small_split, tmp_path):
    from deepfm_gluon.training.loop import TrainingDiverged

    def explode_after_first_epoch(fitter, record):
        fitter.trainer.set_learning_rate(1e30)

    net = build_model("fm", small_split.train.field_dims)
    config = dataclasses.replace(CONFIG, optimizer="sgd", lr=0.01)
    with pytest.raises(TrainingDiverged, match=r"(loss is \w+ at epoch \d+, batch \d+)|(not finite after epoch \d+)") as err:
        fit(net, "fm", small_split.train, small_split.test, config, log=None,
            checkpoint_dir=str(tmp_path), on_epoch=explode_after_first_epoch)
    diverged = int(str(err.value).split("epoch ")[1].split(",")[0].split(";")[0])
    path, state = read_latest(str(tmp_path))
    assert diverged >= 2 and state["epoch"] == diverged - 1
    restored = build_model("fm", small_split.train.field_dims)
    restored.load_parameters(os.path.join(path, "model.params"))
    assert all(onp.isfinite(v).all() for v in params_of(restored).values())


def test_trainer_param_names_need_one_name_each():
    """A Trainer parameter the model does not name makes states match by index, as before."""
    mx.npx.set_np()
    net = build_model("fm", [3, 4])
    net.initialize()
    fitter = types.SimpleNamespace(net=net, trained_blocks=lambda: (net,),
                                   trainer=mx.gluon.Trainer(net.collect_params(), "sgd"))
    assert sorted(trainer_param_names(fitter)) == sorted(gluon_compat.params_by_structural_name(net))
    stray = mx.gluon.Parameter("stray", shape=(2,))
    stray.initialize()
    fitter.trainer = mx.gluon.Trainer(list(net.collect_params().values()) + [stray], "sgd")
    assert trainer_param_names(fitter) is None

"""The promise: the model `train --early-stop` saves is no worse than
predicting the base rate, in test logloss, on data with a weak signal (a
Criteo-format file whose true model reaches a test AUC of about 0.64)."""
import json
import subprocess
import sys

import mxnet as mx
import numpy as np
import pytest

from deepfm_gluon.data.criteo import CriteoSyntheticSpec, write_criteo_synthetic
from deepfm_gluon.data.sources import load_split, with_validation
from deepfm_gluon.models import LogitView
from deepfm_gluon.serving.model_dir import load_model_dir
from deepfm_gluon.training.loop import evaluate


@pytest.fixture(scope="module")
def weak_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("weak") / "day_0"
    write_criteo_synthetic(str(path), CriteoSyntheticSpec(num_rows=20000, seed=3, max_cardinality=2000,
                                                          signal_scale=0.2))
    return str(path)


def base_rate_logloss(train_labels, test_labels):
    c = float(np.mean(train_labels))
    y = np.asarray(test_labels, dtype=np.float64)
    return float(-np.mean(y * np.log(c) + (1 - y) * np.log(1 - c)))


@pytest.mark.parametrize("preset", ["book", "bars"])
def test_early_stopped_model_beats_the_base_rate(weak_file, tmp_path, preset):
    out, data_dir = tmp_path / "fm", str(tmp_path / "d")
    # a second process, as a user runs it (and this process's Gluon name counters stay as they were)
    argv = ["train", "--model", "fm", "--data", f"criteo:{weak_file}", "--data-dir", data_dir,
            "--preset", preset, "--early-stop", "2", "--epochs", "15", "--no-progress",
            "--no-checkpoints", "--out", str(out)]
    proc = subprocess.run([sys.executable, "-m", "deepfm_gluon", *argv], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    history = json.loads((out / "history.json").read_text())
    split = with_validation(load_split(f"criteo:{weak_file}", data_dir=data_dir))  # the lines it trained on
    net, _, _ = load_model_dir(str(out))
    saved = evaluate(LogitView(net), np.asarray(split.test.features), np.asarray(split.test.labels), mx.cpu())
    assert saved["logloss"] == pytest.approx(history["chosen"]["test_logloss"], abs=1e-6)
    assert saved["logloss"] <= base_rate_logloss(split.train.labels, split.test.labels) + 1e-6  # float32
    if preset == "bars":  # BARS's settings learn the weak signal
        assert saved["auc"] > 0.55 and history["chosen"]["epoch"] >= 1
    else:  # the book's rates overfit at once here: no epoch beat the base rate on validation
        assert history["chosen"]["epoch"] == 0 and saved["auc"] == 0.5

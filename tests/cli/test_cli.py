"""The command line, as a user meets it."""
import json
import os
import subprocess
import sys

import numpy as onp
import pytest

from deepfm_gluon.cli import main
from deepfm_gluon.training.metrics import METRIC_NAMES


@pytest.fixture(scope="module")
def model_dir(small_data_dir, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("cli") / "m")
    assert main(["train", "--model", "fm", "--data", small_data_dir, "--epochs", "2", "--out", out]) == 0
    return out


def test_train_writes_model_dir(model_dir):
    assert {"model.params", "meta.json", "mapping.json", "history.json", "curves.png", "report.html",
            "explain"} <= set(os.listdir(model_dir))
    epochs = json.load(open(os.path.join(model_dir, "history.json")))["epochs"]
    assert len(epochs) == 2
    for name in METRIC_NAMES:  # every metric of the one table, per epoch
        assert isinstance(epochs[-1][f"test_{name}"], float)
    meta = json.load(open(os.path.join(model_dir, "meta.json")))
    assert meta["test_metrics"] == {name: epochs[-1][f"test_{name}"] for name in METRIC_NAMES}


def test_evaluate_json(model_dir, small_data_dir, capsys):
    assert main(["evaluate", "--model-dir", model_dir, "--data", os.path.join(small_data_dir, "test.csv"), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["examples"] == 600 and 0 <= scores["auc"] <= 1
    # the same numbers training saved for this test file, every metric
    saved = json.load(open(os.path.join(model_dir, "meta.json")))["test_metrics"]
    for name in METRIC_NAMES:
        assert scores[name] == pytest.approx(saved[name], abs=1e-5), name


def test_evaluate_text_names_every_metric(model_dir, small_data_dir, capsys):
    assert main(["evaluate", "--model-dir", model_dir, "--data", os.path.join(small_data_dir, "test.csv")]) == 0
    out = capsys.readouterr().out
    for label in ("AUC", "logloss", "NE", "calibration", "ECE", "acc"):
        assert f" {label} " in out


def test_predict_writes_one_probability_per_line(model_dir, small_data_dir, tmp_path):
    out = tmp_path / "p.txt"
    assert main(["predict", "--model-dir", model_dir, "--input", os.path.join(small_data_dir, "test.csv"),
                 "--output", str(out)]) == 0
    probs = onp.loadtxt(out)
    assert probs.shape == (600,) and ((probs > 0) & (probs < 1)).all()


def test_compare_prints_one_table(small_data_dir, tmp_path, capsys):
    assert main(["compare", "--data", small_data_dir, "--epochs", "2", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "test AUC" in out and "test NE" in out and "test ECE" in out and "\nfm " in out and "\ndeepfm " in out
    rows = json.load(open(tmp_path / "compare.json"))["rows"]
    assert {"book: test NE", "early-stop: test calibration", "early-stop: test ECE"} <= set(rows[0])
    page = open(tmp_path / "report.html").read()  # the four models side by side, figures embedded
    assert page.count('src="data:image/png;base64,') == 1 + 4 * 3 and "deepfm (early-stop)" in page
    assert os.path.exists(tmp_path / "compare.png")


@pytest.mark.parametrize("argv, message", [
    (["train", "--data", "/no/such/dir"], "not a data source or a folder"),
    (["evaluate", "--model-dir", "/no/such", "--data", "x"], "not a directory"),
    (["train", "--epochs", "0"], "expected a positive integer"),
    (["train", "--model", "fm", "--mlp-dims", "3,2"], "--mlp-dims: model fm has no hyperparameter set by it; its hyperparameters: num_factors"),
    (["train", "--model", "nosuch"], "unknown model 'nosuch'; known models: autoint, dcnv2, deepfm, fm, lr"),
    (["train", "--model-arg", "num_factors=0"], "--model-arg num_factors=0: model deepfm: num_factors: expected 1..4096, got 0"),
    (["train", "--model-arg", "depth=2"], "model deepfm has no hyperparameter 'depth'; its hyperparameters: num_factors, mlp_dims, drop_rate"),
    (["compare", "--lr", "0.1"], "book learning rate"),
    (["train", "--resume", "/no/such/run"], "no checkpoint to resume from"),
    (["train", "--resume", "/no/such/run", "--no-checkpoints"], "exclude each other"),
])
def test_user_errors_are_one_line_without_traceback(argv, message, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "deepfm_gluon", *argv, "--data-dir", str(tmp_path)]
                          if argv[0] in ("train", "compare") else [sys.executable, "-m", "deepfm_gluon", *argv],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode != 0
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_model_dir_of_wrong_kind(model_dir, tmp_path, capsys):
    (tmp_path / "meta.json").write_text('{"format": "something-else"}')
    assert main(["evaluate", "--model-dir", str(tmp_path), "--data", "x"]) == 2
    assert "not a deepfm-gluon model" in capsys.readouterr().err


def test_fresh_processes_train_evaluate_and_predict(small_data_dir, tmp_path):
    """What a user runs: each command in its own process (no numpy mode set beforehand)."""
    def run(*argv):
        proc = subprocess.run([sys.executable, "-m", "deepfm_gluon", *argv], capture_output=True,
                              text=True, timeout=300, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout
    out = str(tmp_path / "m")
    run("train", "--model", "deepfm", "--data", small_data_dir, "--epochs", "1", "--out", out)
    test_file = os.path.join(small_data_dir, "test.csv")
    assert json.loads(run("evaluate", "--model-dir", out, "--data", test_file, "--json"))["examples"] == 600
    run("predict", "--model-dir", out, "--input", test_file, "--output", str(tmp_path / "p.txt"))
    assert onp.loadtxt(tmp_path / "p.txt").shape == (600,)

"""Calibration: the fits against references written here (scipy's optimizer
for Platt, a plain pool-adjacent-violators loop for isotonic), strictly
increasing maps (AUC never changes), and `train --calibrate` end to end:
lower test ECE on a miscalibrated model, the same AUC, applied by
evaluate, predict, export and the ONNX engine."""
import json
import os
import subprocess
import sys

import numpy as onp
import pytest
from scipy import optimize

from deepfm_gluon.cli import main
from deepfm_gluon.serving.predictor import Predictor
from deepfm_gluon.training.calibration import Calibrator, fit_calibration, fit_platt, load_calibration
from deepfm_gluon.training.metrics import expected_calibration_error, roc_auc


def overconfident(n, seed):
    """Logits three times too large for the labels they were drawn with."""
    rng = onp.random.default_rng(seed)
    true = rng.normal(0, 1.5, n)
    labels = (rng.random(n) < 1 / (1 + onp.exp(-true))).astype(float)
    return 3 * true + 0.5, labels


def test_platt_against_scipy():
    z, y = overconfident(2000, 0)

    def loss(w):
        p = onp.clip(1 / (1 + onp.exp(-(w[0] * z + w[1]))), 1e-12, 1 - 1e-12)
        return -onp.mean(y * onp.log(p) + (1 - y) * onp.log(1 - p))
    reference = optimize.minimize(loss, [1.0, 0.0], method="Nelder-Mead", options={"xatol": 1e-9, "fatol": 1e-12}).x
    fitted = fit_platt(z, y)
    assert fitted["a"] == pytest.approx(reference[0], abs=1e-4) and fitted["b"] == pytest.approx(reference[1], abs=1e-4)
    assert fitted["a"] == pytest.approx(1 / 3, abs=0.05)  # it undoes the factor 3


def reference_pav(values, weights):
    """Isotonic regression by repeated pooling of the first violating pair (quadratic, obvious)."""
    blocks = [[v, w, 1] for v, w in zip(values, weights)]
    changed = True
    while changed:
        changed = False
        for i in range(len(blocks) - 1):
            if blocks[i][0] > blocks[i + 1][0]:
                (v1, w1, s1), (v2, w2, s2) = blocks[i], blocks[i + 1]
                blocks[i:i + 2] = [[(v1 * w1 + v2 * w2) / (w1 + w2), w1 + w2, s1 + s2]]
                changed = True
                break
    return [b[0] for b in blocks], [b[2] for b in blocks]


def test_isotonic_against_reference_and_strictly_increasing():
    z, y = overconfident(500, 1)
    z = onp.round(z, 1)  # ties: one point per distinct logit
    calibrator = fit_calibration("isotonic", z, y)
    unique = onp.unique(z)
    rates = [y[z == u].mean() for u in unique]
    counts = [int((z == u).sum()) for u in unique]
    means, sizes = reference_pav(rates, counts)
    assert calibrator.params["knots_probability"] == pytest.approx(means, abs=1e-12)
    ends = onp.cumsum(sizes)
    knots = [onp.average(unique[e - s:e], weights=counts[e - s:e]) for s, e in zip(sizes, ends)]
    assert calibrator.params["knots_logit"] == pytest.approx(knots, abs=1e-12)
    grid = onp.linspace(-30, 30, 20001)  # inside and far outside the knots
    # strictly increasing wherever the model's own float32 probability tells two logits apart
    told_apart = onp.diff((1 / (1 + onp.exp(-grid))).astype(onp.float32)) > 0
    assert told_apart.mean() > 0.5 and (onp.diff(calibrator.apply(grid))[told_apart] > 0).all()


@pytest.mark.parametrize("method", ["platt", "isotonic"])
def test_calibration_keeps_auc_and_lowers_ece(method):
    z, y = overconfident(4000, 2)
    calibrator = fit_calibration(method, z[:2000], y[:2000])
    raw, calibrated = 1 / (1 + onp.exp(-z[2000:])), calibrator.apply(z[2000:])
    assert roc_auc(y[2000:], calibrated) == roc_auc(y[2000:], raw)
    assert expected_calibration_error(y[2000:], calibrated) < 0.5 * expected_calibration_error(y[2000:], raw)


@pytest.fixture(scope="module")
def calibrated_dirs(small_data_dir, tmp_path_factory):
    """FM trained 20 epochs on the small data (it overfits: overconfident), calibrated both ways."""
    dirs = {}
    for method in ("platt", "isotonic"):
        out = str(tmp_path_factory.mktemp("calibrated") / method)
        assert main(["train", "--model", "fm", "--data", small_data_dir, "--epochs", "20", "--validation", "0.3", "--calibrate", method,
                     "--out", out, "--no-report", "--no-checkpoints"]) == 0
        dirs[method] = out
    return dirs


@pytest.mark.parametrize("method", ["platt", "isotonic"])
def test_train_calibrate_lowers_test_ece_never_auc(calibrated_dirs, small_data_dir, method, capsys):
    model_dir = calibrated_dirs[method]
    saved = json.load(open(os.path.join(model_dir, "calibration.json")))
    before, after = saved["before"]["test"], saved["after"]["test"]
    assert before["ece"] > 0.05, before  # the model is miscalibrated
    assert after["ece"] < 0.7 * before["ece"] and after["auc"] == before["auc"]
    # evaluate applies it: its numbers are the calibrated ones
    assert main(["evaluate", "--model-dir", model_dir, "--data", os.path.join(small_data_dir, "test.csv"),
                 "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["ece"] == pytest.approx(after["ece"], abs=1e-6) and scores["auc"] == pytest.approx(before["auc"])
    meta = json.load(open(os.path.join(model_dir, "meta.json")))
    assert meta["calibration"] == method and meta["test_metrics"]["ece"] == after["ece"]


def test_predict_writes_calibrated_probabilities(calibrated_dirs, small_data_dir, tmp_path):
    model_dir = calibrated_dirs["platt"]
    out = tmp_path / "p.txt"
    assert main(["predict", "--model-dir", model_dir, "--input", os.path.join(small_data_dir, "test.csv"),
                 "--output", str(out)]) == 0
    raw = Predictor(model_dir, calibrated=False)
    features, _, _ = raw.read(os.path.join(small_data_dir, "test.csv"))
    expected = load_calibration(model_dir).apply(raw.predict_logits(features))
    onp.testing.assert_allclose(onp.loadtxt(out), expected, atol=1e-7)


def test_onnx_export_holds_platt_and_refuses_isotonic(calibrated_dirs, small_data_dir, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    model_dir = calibrated_dirs["platt"]
    assert main(["export", "--model-dir", model_dir, "--format", "onnx", "--out", str(tmp_path / "m.onnx")]) == 0
    predictor = Predictor(model_dir)
    features, _, _ = predictor.read(os.path.join(small_data_dir, "test.csv"))
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    got = session.run(None, {"feature_indices": features.astype(onp.int64)})[0].ravel()
    onp.testing.assert_allclose(got, predictor.predict_features(features), atol=1e-5)
    proc = subprocess.run([sys.executable, "-m", "deepfm_gluon", "export", "--model-dir", calibrated_dirs["isotonic"],
                           "--format", "onnx", "--out", str(tmp_path / "iso.onnx")], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "isotonic calibration is a lookup table" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "iso.onnx").exists()


def test_a_damaged_calibration_is_refused_in_one_line(calibrated_dirs, tmp_path):
    import shutil
    copy = tmp_path / "m"
    shutil.copytree(calibrated_dirs["platt"], copy)
    data = json.load(open(copy / "calibration.json"))
    data["a"] = -1.0
    json.dump(data, open(copy / "calibration.json", "w"))
    with pytest.raises(Exception, match="platt needs finite a > 0"):
        Predictor(str(copy))
    assert isinstance(Calibrator("platt", {"a": 1.0, "b": 0.0}).apply([0.0])[0], float)

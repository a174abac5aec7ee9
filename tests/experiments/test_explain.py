"""explain: each number against a plain-numpy reference written here, the CLI
and its bad input, and the planted pairs of the synthetic data standing out
in FM's and DeepFM's interaction heatmaps."""
import json
import os
import shutil
import subprocess
import sys

import mxnet as mx
import numpy as onp
import pytest

from deepfm_gluon.cli import main
from deepfm_gluon.data.sources import load_split
from deepfm_gluon.data.synthetic import SyntheticSpec, planted_pairs
from deepfm_gluon.experiments.explain import (interaction_strength, permutation_importance, ranked_pairs,
                                              reliability)
from deepfm_gluon.experiments.explain_run import explain_split
from deepfm_gluon.experiments.runner import train_model
from deepfm_gluon.models import build_model
from deepfm_gluon.training import TrainConfig
from deepfm_gluon.training.loop import predict_logits
from deepfm_gluon.training.metrics import expected_calibration_error, roc_auc


def test_permutation_importance_against_reference():
    rng = onp.random.default_rng(0)
    features = rng.integers(0, 5, size=(400, 3))
    weights = onp.array([1.5, 0.0, -0.7])  # field 1 plays no part

    def predict(x):
        return 1 / (1 + onp.exp(-(x @ weights - 2.0)))
    labels = (rng.random(400) < predict(features)).astype(float)
    result = permutation_importance(predict, features, labels, ["a", "b", "c"], repeats=4, seed=7)
    base = roc_auc(labels, predict(features))
    for f, row in enumerate(result["fields"]):
        drops = []
        for r in range(4):  # the documented permutation: numpy's generator seeded (seed, field, repeat)
            x = features.copy()
            x[:, f] = features[onp.random.default_rng([7, f, r]).permutation(400), f]
            drops.append(base - roc_auc(labels, predict(x)))
        assert row["field"] == "abc"[f] and row["drops"] == pytest.approx(drops, abs=1e-12)
        assert row["mean_drop"] == pytest.approx(onp.mean(drops)) and row["std_drop"] == pytest.approx(
            onp.std(drops, ddof=1))
    by_name = {r["field"]: r["mean_drop"] for r in result["fields"]}
    assert by_name["b"] == 0.0 and by_name["a"] > 0.05 and by_name["c"] > 0.0


def test_interaction_strength_against_numpy():
    mx.npx.set_np()
    net = build_model("fm", [3, 4, 5], num_factors=4)
    net.initialize(mx.init.Normal(0.5))
    rng = onp.random.default_rng(1)
    features = onp.stack([rng.integers(0, 3, 50), 3 + rng.integers(0, 4, 50), 7 + rng.integers(0, 5, 50)], 1)
    got = interaction_strength(net.embedding, features)
    v = net.embedding.weight.data().asnumpy().astype(onp.float64)
    for i in range(3):
        for j in range(3):
            if i == j:
                assert onp.isnan(got[i, j])
            else:
                expected = onp.mean([abs(v[row[i]] @ v[row[j]]) for row in features])
                assert got[i, j] == pytest.approx(expected, rel=1e-6)
    pairs = ranked_pairs(got, ["x", "y", "z"])
    assert len(pairs) == 3 and pairs[0][2] >= pairs[1][2] >= pairs[2][2]


def test_reliability_bins_and_counts():
    rng = onp.random.default_rng(2)
    probs = rng.random(1003)
    labels = (rng.random(1003) < probs).astype(float)
    numbers = reliability(labels, probs)
    counts = [b["count"] for b in numbers["bins"]]
    assert sum(counts) == 1003 and len(counts) == 10 and max(counts) - min(counts) <= 1
    order = onp.sort(probs)
    assert numbers["bins"][0]["mean_predicted"] == pytest.approx(order[:counts[0]].mean())
    assert numbers["ece"] == expected_calibration_error(labels, probs)


@pytest.fixture(scope="module")
def explained_dir(small_data_dir, tmp_path_factory):
    """A small FM trained with a validation split, then explained by the CLI."""
    out = str(tmp_path_factory.mktemp("explain") / "fm")
    assert main(["train", "--model", "fm", "--data", small_data_dir, "--epochs", "2", "--validation", "0.2",
                 "--out", out, "--no-report"]) == 0
    return out


def test_explain_cli_writes_pngs_and_json(explained_dir, tmp_path, capsys):
    assert main(["explain", "--model-dir", explained_dir, "--out", str(tmp_path), "--repeats", "2"]) == 0
    assert {"reliability.png", "importance.png", "interactions.png", "explain.json"} <= set(os.listdir(tmp_path))
    result = json.load(open(tmp_path / "explain.json"))
    assert "validation split" in result["importance"]["data"] and len(result["importance"]["fields"]) == 34
    assert "test split" in result["reliability"]["data"]
    # the reliability numbers are those of the test set evaluate scores
    saved = json.load(open(os.path.join(explained_dir, "meta.json")))["test_metrics"]
    assert result["reliability"]["ece"] == pytest.approx(saved["ece"], abs=1e-5)
    assert len(result["interactions"]["strength"]) == 34 and "strongest field pairs" in capsys.readouterr().out


def test_explain_fields_and_a_given_file(explained_dir, small_data_dir, tmp_path):
    test_file = os.path.join(small_data_dir, "test.csv")
    assert main(["explain", "--model-dir", explained_dir, "--data", test_file, "--fields", "3,1,20",
                 "--out", str(tmp_path), "--repeats", "2"]) == 0
    result = json.load(open(tmp_path / "explain.json"))
    assert [r["field"] for r in result["importance"]["fields"]] == ["3", "1", "20"]
    assert result["interactions"]["fields"] == ["3", "1", "20"] and result["reliability"]["examples"] == 600


def run_cli(*argv):
    proc = subprocess.run([sys.executable, "-m", "deepfm_gluon", *argv], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    return proc.stderr


def test_unknown_field_is_named(explained_dir, tmp_path):
    err = run_cli("explain", "--model-dir", explained_dir, "--fields", "3,nosuchfield", "--out", str(tmp_path))
    assert "--fields: no field named 'nosuchfield'" in err and "the model's fields: 1, 2, 3" in err


def test_model_dir_without_its_data_says_what_to_pass(explained_dir, tmp_path):
    moved = tmp_path / "model"
    shutil.copytree(explained_dir, moved)
    meta = json.load(open(moved / "meta.json"))
    meta["data"] = str(tmp_path / "gone")
    json.dump(meta, open(moved / "meta.json", "w"))
    err = run_cli("explain", "--model-dir", str(moved))
    assert "explain needs labelled data" in err and "pass --data FILE" in err
    err = run_cli("explain", "--model-dir", str(moved), "--data", str(tmp_path / "nofile.csv"))
    assert "no such file" in err


# Planted pairs: the synthetic generator's pairwise terms made strong enough to
# be learnable from a few thousand lines (the default data's pairs are weak
# beside its first-order terms, std 8 per field, and the parities).
PLANTED_SPEC = SyntheticSpec(num_train=6000, num_test=1000, min_cardinality=6, max_cardinality=20,
                             pairwise_scale=5.0, first_order_scale=1.0, parity_strength=0.0,
                             nonlinear_strength=0.0)


@pytest.mark.parametrize("kind", ["fm", "deepfm"])
def test_planted_pairs_rank_at_the_top_of_the_heatmap(kind, data_root):
    split = load_split("synthetic", data_dir=data_root, synthetic=PLANTED_SPEC)
    net, _, _ = train_model(kind, split, TrainConfig(epochs=10, batch_size=256, progress=False), log=None)
    strength = interaction_strength(net.embedding, split.test.features)
    names = [str(f + 1) for f in range(34)]
    ranked = [(a, b) for a, b, _ in ranked_pairs(strength, names)]
    planted = [(str(f + 1), str(g + 1)) for f, g in planted_pairs(PLANTED_SPEC)]
    ranks = sorted(ranked.index(p) for p in planted)
    # 561 field pairs: the strongest one is planted, and half the planted pairs are in the top 3%
    assert ranked[0] in planted, (ranks, ranked[:5])
    assert ranks[2] < 17, ranks
    if kind == "fm":  # FM's factors serve the pairs only (DeepFM's MLP reads them too): its top 3 are planted
        assert ranks[:3] == [0, 1, 2], ranks
    probs = predict_logits(net, split.test.features, mx.cpu())
    assert roc_auc(split.test.labels, probs) > 0.7


def test_a_model_without_fm_factors_gets_no_heatmap(small_split, tmp_path):
    net, _, _ = train_model("lr", small_split, TrainConfig(epochs=1, progress=False), log=None)
    result, figures = explain_split(net, "lr", small_split, lambda x: predict_logits(net, x, mx.cpu()),
                                    str(tmp_path), repeats=1)
    assert result["interactions"] is None and set(figures) == {"reliability", "importance"}
    assert set(os.listdir(tmp_path)) == {"reliability.png", "importance.png", "explain.json"}

"""reproduce, sweep and compare on small data: structure and judgement logic."""
import dataclasses
import json
import os

import numpy as onp

from deepfm_gluon.experiments.reproduce import SeedRuns, epochs_to_reach, judge_claims, reproduce
from deepfm_gluon.experiments.sweep import run_sweep, sweep_variants
from deepfm_gluon.training import TrainConfig
from deepfm_gluon.training.history import History

QUICK = TrainConfig(epochs=2, progress=False)


def fake_runs(fm_curves, deep_curves):
    def hist(kind, curve):
        return History(kind, "correct", ["cpu(0)"], {}, [
            {"epoch": i + 1, "test_auc": a, "test_logloss": 0.5, "test_acc": 0.7, "train_loss": 0.4}
            for i, a in enumerate(curve)])
    return SeedRuns("correct", list(range(len(fm_curves))),
                    {"fm": [hist("fm", c) for c in fm_curves], "deepfm": [hist("deepfm", c) for c in deep_curves]})


def test_epochs_to_reach():
    assert epochs_to_reach(onp.array([0.5, 0.7, 0.8]), 0.7) == 2.0
    assert epochs_to_reach(onp.array([0.5, 0.6]), 0.7) == float("inf")


def test_claims_held_when_deepfm_is_better_and_faster():
    runs = fake_runs([[0.60, 0.70, 0.72], [0.61, 0.69, 0.71], [0.6, 0.7, 0.73]],
                     [[0.70, 0.75, 0.78], [0.71, 0.76, 0.79], [0.69, 0.74, 0.77]])
    verdict = judge_claims(runs)
    assert all(verdict["claims"].values()) and verdict["deepfm_wins"] == 3


def test_claims_not_held_when_deepfm_is_worse():
    runs = fake_runs([[0.7, 0.8], [0.71, 0.8]], [[0.6, 0.7], [0.62, 0.69]])
    assert not any(judge_claims(runs)["claims"].values())


def test_reproduce_writes_report(small_split, tmp_path):
    report, verdict = reproduce(small_split, QUICK, [0, 1], str(tmp_path), book_compat=True)
    assert {"report.md", "results.json", "curves.png"} <= set(os.listdir(tmp_path))
    assert "DeepFM outperforms the original FM" in report and "0.504" in report
    assert "ours book-compat loss" in report
    results = json.load(open(tmp_path / "results.json"))
    assert set(results["histories"]) == {"correct", "book-compat"}


def test_sweep_covers_the_exercise_variants(small_split, tmp_path):
    labels = [label for _, label, _, _ in sweep_variants("all")]
    for needed in ("none (linear head)", "[10]", "[30, 20, 10] (book)", "[64, 32]", "[200, 200, 200]",
                   "[30, 20, 10] dropout 0", "[30, 20, 10] dropout 0.5", "FM k=20 (book)"):
        assert needed in labels
    rows = run_sweep(small_split, dataclasses.replace(QUICK, epochs=1), "factors", out_dir=str(tmp_path))
    assert len(rows) == 5 and os.path.exists(tmp_path / "sweep.png")


def test_early_stopped_sweep_reports_validation_and_each_seed(small_split, tmp_path):
    """Early-stopped runs of one variant end at different epochs: the plot takes
    each epoch's mean over the runs that reached it; rows carry each seed's test AUC."""
    from deepfm_gluon.data.sources import with_validation
    from deepfm_gluon.experiments.sweep import plot_sweep
    validated = with_validation(small_split, share=0.2, seed=0)
    config = dataclasses.replace(QUICK, epochs=3, early_stop=1)
    rows = run_sweep(validated, config, "factors", seeds=[0, 1])
    assert all(len(r["test AUC by seed"]) == 2 and 0.5 < r["validation AUC"] <= 1 for r in rows)
    assert all(abs(onp.mean(r["test AUC by seed"]) - r["test AUC"]) < 1e-9 for r in rows)
    plot_sweep({("factors", "ragged"): [[0.6, 0.7, 0.8], [0.5]]}, str(tmp_path / "ragged.png"))
    assert (tmp_path / "ragged.png").read_bytes().startswith(b"\x89PNG")

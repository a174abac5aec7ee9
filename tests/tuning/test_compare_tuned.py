"""`compare --config` / `compare --tune`: each configuration over seeds under
both protocols, the book protocol for the epoch count validation chose, and
paired tests against the first model."""
import json
import os
import subprocess
import sys

import pytest

from deepfm_gluon.cli.main import main
from deepfm_gluon.experiments.config_file import RunConfig, write_config


def test_compare_configs_reports_both_protocols_with_paired_tests(small_data_dir, tmp_path):
    fm, deepfm = tmp_path / "fm.json", tmp_path / "deepfm.json"
    write_config(str(fm), RunConfig("fm", {"num_factors": 4}, {"lr": 0.01, "batch_size": 256, "epochs": 3,
                                                               "early_stop": 1}, {"epoch": 2}))
    write_config(str(deepfm), RunConfig("deepfm", {"num_factors": 4, "mlp_dims": [8]},
                                        {"lr": 0.01, "batch_size": 256, "epochs": 2, "early_stop": 1}))
    out = tmp_path / "out"
    assert main(["compare", "--config", str(fm), "--config", str(deepfm), "--seeds", "2", "--data", small_data_dir,
                 "--no-progress", "--out", str(out)]) == 0
    report = json.loads((out / "compare_tuned.json").read_text())
    assert report["baseline"] == "fm" and report["seeds"] == [0, 1]
    runs = report["runs"]
    assert [r["epochs_run"] for r in runs["book"]["fm"]] == [2, 2]  # the epoch validation chose
    assert [r["epochs_run"] for r in runs["book"]["deepfm"]] == [2, 2]  # no tuning epoch: the file's epochs
    assert all(1 <= r["epochs_run"] <= 3 for r in runs["early-stop"]["fm"])
    rows = {(r["protocol"], r["model"]): r for r in report["rows"]}
    assert set(rows) == {(p, m) for p in ("early-stop", "book") for m in ("fm", "deepfm")}
    paired = rows[("book", "deepfm")]
    diffs = [d["test_auc"] - f["test_auc"] for d, f in zip(runs["book"]["deepfm"], runs["book"]["fm"])]
    assert paired["AUC - fm"] == pytest.approx(sum(diffs) / 2) and "paired t p" in paired
    assert "| book | deepfm |" in (out / "compare_tuned.md").read_text()


def test_compare_tune_tunes_every_model_with_the_same_budget(small_data_dir, tmp_path):
    pytest.importorskip("optuna")
    out = tmp_path / "out"
    assert main(["compare", "--tune", "2", "--epochs", "1", "--seeds", "1", "--data", small_data_dir,
                 "--no-progress", "--out", str(out)]) == 0
    for model in ("fm", "deepfm"):
        trials = (out / "tuning" / model / "trials.csv").read_text().splitlines()
        assert len(trials) == 1 + 2  # header + the same budget each
        assert (out / "tuning" / model / "best.json").exists()
    report = json.loads((out / "compare_tuned.json").read_text())
    assert report["budget_trials"] == 2 and set(report["configs"]) == {"fm", "deepfm"}


def test_reproduce_tune_tunes_fm_and_deepfm_then_pairs_them_over_seeds(small_data_dir, tmp_path):
    """`reproduce --tune N` through the real CLI: the chapter's two models tuned with the same budget
    on validation, then each best configuration over the seeds under both protocols, paired."""
    pytest.importorskip("optuna")
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "deepfm_gluon", "reproduce", "--tune", "2", "--epochs", "1", "--seeds", "2",
            "--data", small_data_dir, "--no-progress", "--out", str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(argv, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads((out / "compare_tuned.json").read_text())
    assert report["budget_trials"] == 2 and report["baseline"] == "fm" and report["seeds"] == [0, 1]
    for model in ("fm", "deepfm"):
        assert len((out / "tuning" / model / "trials.csv").read_text().splitlines()) == 1 + 2
        chosen = report["configs"][model]["tuning"]["epoch"]  # the book protocol trains validation's epochs
        assert [r["epochs_run"] for r in report["runs"]["book"][model]] == [chosen or 1] * 2
    rows = {(r["protocol"], r["model"]): r for r in report["rows"]}
    assert set(rows) == {(p, m) for p in ("early-stop", "book") for m in ("fm", "deepfm")}
    runs = report["runs"]["early-stop"]
    diffs = [d["test_auc"] - f["test_auc"] for d, f in zip(runs["deepfm"], runs["fm"])]
    assert rows[("early-stop", "deepfm")]["AUC - fm"] == pytest.approx(sum(diffs) / 2)
    assert "| book | deepfm |" in proc.stdout
    refused = subprocess.run(argv[:-2] + ["--book-compat", "--out", str(tmp_path / "b")], capture_output=True,
                             text=True, env=env)
    assert refused.returncode == 2 and "--tune and --book-compat exclude each other" in refused.stderr
    assert refused.stderr.strip().count("\n") == 0

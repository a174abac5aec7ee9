"""Dense kvstore jobs checkpoint and resume bit-exactly, and stop early on
rank 0's validation score with every worker taking the same decision."""
import json
import re

import mxnet as mx
import numpy as np

from .conftest import kill_mid_run, run_cli

BATCH = 512
LAUNCH = ["launch", "--workers", "2", "--servers", "1", "--timeout", "150", "--"]


def _train_args(data_dir, out, *extra):
    return ["train", "--model", "deepfm", "--data", data_dir, "--batch-size", str(BATCH),
            "--out", str(out), "--no-progress", "--no-report", *extra]


def _params(path):
    return {k: v.asnumpy() for k, v in mx.nd.load(str(path)).items()}


def assert_bit_identical(a, b):
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_a_killed_dense_job_resumes_bit_identically(dist_data_dir, tmp_path):
    """SIGKILL worker 1 once epoch 2's checkpoint is written; `--resume`
    continues every worker from it (rank 0's parameters and Adam states,
    each worker's own batch order) and ends equal to the uninterrupted job."""
    full = run_cli([*LAUNCH, *_train_args(dist_data_dir, tmp_path / "full", "--epochs", "4")], timeout=180)
    assert full.returncode == 0, full.stdout
    victim = tmp_path / "victim"
    latest = victim / "checkpoints" / "latest.json"
    code, text, _, _ = kill_mid_run(
        [*LAUNCH, *_train_args(dist_data_dir, victim, "--epochs", "4")], "worker 1",
        lambda line: latest.exists() and '"epoch": 2' in latest.read_text())
    assert code == 2, text
    assert not (victim / "model.params").exists()
    resumed = run_cli([*LAUNCH, "train", "--resume", str(victim), "--no-report"], timeout=180)
    assert resumed.returncode == 0, resumed.stdout
    assert re.search(r"resumed from .* after epoch [23]", resumed.stdout), resumed.stdout
    assert_bit_identical(_params(tmp_path / "full" / "model.params"), _params(victim / "model.params"))


def test_early_stopping_stops_every_worker_and_saves_the_best_epoch(dist_data_dir, tmp_path):
    """A learning rate that overfits at once: validation AUC peaks early, rank
    0 decides to stop, both workers stop after the same epoch, and the saved
    model is the best validation epoch's, not the last one's."""
    out = tmp_path / "es"
    result = run_cli([*LAUNCH, *_train_args(dist_data_dir, out, "--epochs", "12", "--early-stop", "1",
                                            "--lr", "0.05", "--validation", "0.2")], timeout=180)
    assert result.returncode == 0, result.stdout
    history = json.loads((out / "history.json").read_text())
    ran = len(history["epochs"])
    chosen = history["chosen"]
    assert ran < 12, result.stdout  # it stopped
    for rank in (0, 1):  # each worker logged the same epochs, no more
        assert len(re.findall(rf"\[worker {rank}\] deepfm epoch \d+/12: train loss", result.stdout)) == ran
    eligible = [r for r in history["epochs"] if r["val_logloss"] < chosen["base_rate_val_logloss"]]
    best = max(eligible, key=lambda r: r["val_auc"])
    assert chosen["epoch"] == best["epoch"] < ran
    scorers = re.findall(r"\[(worker \d)\] deepfm epoch \d+: validation AUC", result.stdout)
    leader = re.search(r"\[(worker \d)\] dist_sync worker rank 0 of 2", result.stdout).group(1)
    assert scorers == [leader] * ran  # rank 0 alone scores validation (its launcher index may be 1)
    best_file = out / "checkpoints" / f"best-epoch-{best['epoch']:04d}.params"
    assert_bit_identical(_params(best_file), _params(out / "model.params"))
    last_checkpoint = out / "checkpoints" / f"epoch-{ran:04d}" / "model.params"
    assert not np.array_equal(_params(last_checkpoint)["embedding.weight"],
                              _params(out / "model.params")["embedding.weight"])

"""Real jobs on localhost: scheduler, one server and two workers as local
processes talking over 127.0.0.1 (a few seconds each on two cores)."""
import json
import os
import re
import time

from mxnet import npx

from deepfm_gluon.experiments.runner import train_model
from deepfm_gluon.training.config import TrainConfig

from .conftest import kill_mid_run, run_cli

EPOCHS, BATCH = 3, 512


def _train_args(data_dir, out, epochs=EPOCHS):
    return ["train", "--model", "fm", "--data", data_dir, "--epochs", str(epochs),
            "--batch-size", str(BATCH), "--out", str(out), "--no-progress", "--no-report"]


def test_two_workers_agree_and_match_one_process(dist_data_dir, dist_split, tmp_path):
    out = tmp_path / "dist"
    result = run_cli(["launch", "--workers", "2", "--servers", "1", "--timeout", "150", "--",
                      *_train_args(dist_data_dir, out)], timeout=180)
    assert result.returncode == 0, result.stdout
    digests = re.findall(r"rank (\d): parameters sha256 ([0-9a-f]{64})", result.stdout)
    assert sorted(rank for rank, _ in digests) == ["0", "1"], result.stdout
    assert digests[0][1] == digests[1][1], "different parameters:\n" + result.stdout

    # rank 0 alone wrote the model dir; its history covers the whole job
    history = json.loads((out / "history.json").read_text())
    last = history["epochs"][-1]
    assert (last["workers"], last["kvstore"], last["train_metrics"]) == (2, "dist_sync", "all workers")
    assert (out / "model.params").exists()

    npx.set_np()
    _, single, _ = train_model("fm", dist_split, TrainConfig(epochs=EPOCHS, batch_size=BATCH,
                                                             progress=False), log=None)
    assert abs(last["test_auc"] - single.last()["test_auc"]) < 0.01, (last, single.last(),
                                                                      result.stdout)
    # every example of the shards was seen: the global count, not one worker's
    assert abs(last["train_loss"] - single.last()["train_loss"]) < 0.05


def test_a_dead_worker_fails_the_job_quickly(dist_data_dir, tmp_path):
    """Kill worker 1 mid-training: its peer would wait in push/pull forever;
    the launcher must stop everything and name the worker."""
    code, text, pid, waited = kill_mid_run(
        ["launch", "--workers", "2", "--timeout", "150", "--",
         *_train_args(dist_data_dir, tmp_path / "m", epochs=10000)],
        "worker 1", lambda line: line.startswith("[worker 1] fm epoch 1/"), deadline_s=90)
    assert waited < 30
    assert code == 2, text
    assert f"error: worker 1 (pid {pid}) was killed by SIGKILL" in text
    assert "Traceback" not in text
    for other in re.findall(r"started \w+(?: \d)? \(pid (\d+)\)", text):
        assert not os.path.exists(f"/proc/{other}"), f"pid {other} outlived the launcher"


def test_a_worker_that_cannot_start_fails_the_job(tmp_path):
    """A data folder whose lines only a worker reads (--strict): the worker
    exits 2 and the launcher stops the job naming it. A missing --data is
    refused by launch itself, before any process starts."""
    (tmp_path / "bad").mkdir()
    for name in ("train.csv", "test.csv"):
        (tmp_path / "bad" / name).write_text("2\tnot a CTR line\n")
    result = run_cli(["launch", "--workers", "2", "--timeout", "60", "--", "train", "--data",
                      str(tmp_path / "bad"), "--strict", "--no-progress"], timeout=90)
    assert result.returncode == 2
    assert re.search(r"error: worker [01] \(pid \d+\) exited with code 2", result.stdout), result.stdout
    missing = run_cli(["launch", "--workers", "2", "--", "train", "--data", str(tmp_path / "missing")], timeout=60)
    assert missing.returncode == 2 and "started" not in missing.stdout, missing.stdout



def test_a_worker_error_ends_the_job_without_timeout(dist_data_dir, tmp_path):
    """Workers whose loss goes NaN raise; without exiting at once they would
    hang at exit (pending push/pull, ps-lite's finalize barrier)."""
    start = time.monotonic()
    result = run_cli(["launch", "--workers", "2", "--", *_train_args(dist_data_dir, tmp_path / "m"),
                      "--lr", "1e30"], timeout=90)
    assert result.returncode == 2, result.stdout
    assert "loss is nan" in result.stdout
    assert re.search(r"error: worker [01] \(pid \d+\) exited with code 2", result.stdout)
    assert time.monotonic() - start < 60

"""Parameter-server sparse jobs on localhost (scheduler, servers, two
workers as processes): the oracle is one process on the same data."""
import json
import os
import re

import mxnet as mx
import numpy as np
from mxnet import npx

from deepfm_gluon import gluon_compat
from deepfm_gluon.data.batches import BatchIterator
from deepfm_gluon.distributed.sharding import shard_dataset
from deepfm_gluon.experiments.runner import train_model
from deepfm_gluon.models import build_model
from deepfm_gluon.training.config import TrainConfig
from deepfm_gluon.training.sparse import SparseFitter

from .conftest import kill_mid_run, run_cli

BATCH, WORKERS = 512, 2


def _train_args(data_dir, out, *extra):
    return ["train", "--data", data_dir, "--batch-size", str(BATCH), "--out", str(out),
            "--no-progress", "--no-report", "--sparse", *extra]


def _one_process_on_the_workers_batches(split, config):
    """SparseFitter with the global batches the two workers make: step s
    is worker 0's batch s followed by worker 1's."""
    npx.set_np()
    net = build_model("fm", split.train.field_dims)
    fitter = SparseFitter(net, "fm", config)
    fitter.initialize()
    shards = [shard_dataset(split.train, r, WORKERS) for r in range(WORKERS)]
    iters = [BatchIterator(s.features, s.labels, BATCH // WORKERS, shuffle=True, last_batch="rollover",
                           seed=config.seed + r) for r, s in enumerate(shards)]
    for _ in range(config.epochs):
        for parts in zip(*iters):
            fitter.step(np.concatenate([x for x, _ in parts]), np.concatenate([y for _, y in parts]))
    mx.nd.waitall()
    return {name: p.data().asnumpy() for name, p in gluon_compat.params_by_structural_name(net).items()}


def test_sgd_two_workers_two_servers_equal_one_process(dist_data_dir, dist_split, tmp_path):
    out = tmp_path / "sgd"
    result = run_cli(["launch", "--workers", str(WORKERS), "--servers", "2", "--timeout", "150", "--",
                      *_train_args(dist_data_dir, out, "--model", "fm", "--epochs", "2",
                                   "--optimizer", "sgd", "--lr", "0.5")], timeout=180)
    assert result.returncode == 0, result.stdout
    digests = re.findall(r"rank (\d): parameters sha256 ([0-9a-f]{64})", result.stdout)
    assert len(digests) == 2 and digests[0][1] == digests[1][1], result.stdout
    assert result.stdout.count("test AUC") == 3, result.stdout  # rank 0 only: 2 epochs + the summary
    oracle = _one_process_on_the_workers_batches(
        dist_split, TrainConfig(epochs=2, batch_size=BATCH, optimizer="sgd", lr=0.5, progress=False))
    saved = {k: v.asnumpy() for k, v in mx.nd.load(str(out / "model.params")).items()}
    assert set(saved) == set(oracle)
    for name, value in oracle.items():
        np.testing.assert_allclose(saved[name], value, atol=1e-5, rtol=0, err_msg=name)


def test_lazy_adam_two_workers_match_one_process_auc(dist_data_dir, dist_split, tmp_path):
    out = tmp_path / "adam"
    result = run_cli(["launch", "--workers", str(WORKERS), "--servers", "1", "--timeout", "150", "--",
                      *_train_args(dist_data_dir, out, "--model", "deepfm", "--epochs", "2")], timeout=180)
    assert result.returncode == 0, result.stdout
    dist_auc = float(re.findall(r"deepfm epoch 2/2: .*test AUC ([0-9.]+)", result.stdout)[0])
    npx.set_np()
    _, single, _ = train_model("deepfm", dist_split, TrainConfig(epochs=2, batch_size=BATCH, sparse=True,
                                                                 progress=False), log=None)
    assert abs(dist_auc - single.last()["test_auc"]) < 0.005, (dist_auc, single.last())


def test_a_killed_server_ends_the_sparse_job(dist_data_dir, tmp_path):
    code, text, pid, waited = kill_mid_run(
        ["launch", "--workers", "2", "--servers", "1", "--timeout", "150", "--",
         *_train_args(dist_data_dir, tmp_path / "m", "--model", "fm", "--epochs", "10000")],
        "server 0", lambda line: re.match(r"\[worker \d\] fm epoch 1/", line))
    assert code == 2 and waited < 30, text
    assert f"error: server 0 (pid {pid}) was killed by SIGKILL" in text
    for other in re.findall(r"started \w+(?: \d)? \(pid (\d+)\)", text):
        assert not os.path.exists(f"/proc/{other}"), f"pid {other} outlived the launcher"


def test_a_crashed_sparse_job_resumes_bit_identically(dist_data_dir, tmp_path):
    """Lazy Adam's states live on the servers: they write them (DFM SAVE) with
    every checkpoint and take them back (DFM LOAD) when the job resumes."""
    common = _train_args(dist_data_dir, tmp_path / "full", "--model", "deepfm", "--epochs", "4")
    launch = ["launch", "--workers", str(WORKERS), "--servers", "2", "--timeout", "150", "--"]
    full = run_cli([*launch, *common], timeout=180)
    assert full.returncode == 0, full.stdout
    victim = tmp_path / "victim"
    latest = victim / "checkpoints" / "latest.json"
    code, text, _, _ = kill_mid_run(
        [*launch, *_train_args(dist_data_dir, victim, "--model", "deepfm", "--epochs", "4")], "worker 1",
        lambda line: latest.exists() and '"epoch": 2' in latest.read_text())
    assert code == 2, text
    assert not (victim / "model.params").exists()
    resumed = run_cli([*launch, "train", "--resume", str(victim), "--no-report"], timeout=180)
    assert resumed.returncode == 0, resumed.stdout
    assert "resumed from" in resumed.stdout
    a = {k: v.asnumpy() for k, v in mx.nd.load(str(tmp_path / "full" / "model.params")).items()}
    b = {k: v.asnumpy() for k, v in mx.nd.load(str(victim / "model.params")).items()}
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_the_readmes_distributed_criteo_command_runs_with_its_early_stopping(tmp_path):
    """`launch --workers 2 --servers 1 -- train --data criteo:F --sparse`: the
    criteo: preset (bars) turns early stopping on; rank 0 scores the
    validation lines, and the model saved is the epoch it chose (the tables
    pulled from the servers with it). --epochs keeps the job short."""
    from deepfm_gluon.data.criteo import CriteoSyntheticSpec, write_criteo_synthetic
    data = tmp_path / "day_0"
    write_criteo_synthetic(str(data), CriteoSyntheticSpec(num_rows=12000, seed=1, max_cardinality=300))
    out = tmp_path / "criteo"
    result = run_cli(["launch", "--workers", "2", "--servers", "1", "--timeout", "250", "--", "train",
                      "--data", f"criteo:{data}", "--sparse", "--epochs", "3", "--no-progress",
                      "--out", str(out)], timeout=300)
    assert result.returncode == 0, result.stdout
    assert "early stopping" in result.stdout
    history = json.loads((out / "history.json").read_text())
    chosen = history["chosen"]
    assert 0 <= chosen["epoch"] <= len(history["epochs"]) <= 3
    if chosen["epoch"]:
        best = out / "checkpoints" / f"best-epoch-{chosen['epoch']:04d}.params"
        a = {k: v.asnumpy() for k, v in mx.nd.load(str(best)).items()}
        b = {k: v.asnumpy() for k, v in mx.nd.load(str(out / "model.params")).items()}
        for name in a:
            np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_a_resume_with_another_server_count_is_refused_before_anything_starts(dist_data_dir, tmp_path):
    """Each server saved the table states of its own key range: 2 servers'
    states cannot be loaded by 1 or 3. `launch` refuses in one line, before
    any process starts (it was accepted and trained silently differently,
    or a worker/server traceback)."""
    out = tmp_path / "two"
    first = run_cli(["launch", "--workers", "2", "--servers", "2", "--timeout", "150", "--",
                     *_train_args(dist_data_dir, out, "--model", "fm", "--epochs", "1")], timeout=180)
    assert first.returncode == 0, first.stdout
    for servers in ("1", "3"):
        result = run_cli(["launch", "--workers", "2", "--servers", servers, "--", "train", "--resume", str(out),
                          "--epochs", "2"], timeout=60)
        assert result.returncode == 2, result.stdout
        assert result.stdout.strip().splitlines() == [
            f"deepfm-gluon launch: error: --servers {servers}: the checkpoints in {out}/checkpoints hold the "
            "table states of 2 parameter server(s), sharded by server; resume with --servers 2"]

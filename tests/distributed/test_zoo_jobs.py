"""Every zoo model trains on the parameter servers: one tiny sparse job per
model (scheduler, one server, two workers as processes, 1 epoch), whose
workers end with the same parameters and a model better than chance.

The jobs run three at a time: a job's wall time is mostly its five
interpreters starting (one CPU-bound MXNet import each) and rank 0 writing
alone, so one job leaves a 2-core machine half idle. --no-report: the run
report is tested in tests/experiments; here it was a third of rank 0's time."""
import re
from concurrent.futures import ThreadPoolExecutor

import mxnet as mx
import pytest

from deepfm_gluon.models import get_spec

from .conftest import run_cli

ZOO = ["lr", "widedeep", "nfm", "dcnv2", "xdeepfm", "autoint"]
AT_ONCE = 3


@pytest.fixture(scope="module")
def zoo_jobs(dist_data_dir, tmp_path_factory):
    """{model: (the launcher's finished process, its --out folder)}, every model's job run."""
    folder = tmp_path_factory.mktemp("zoo")

    def job(kind):
        out = folder / kind
        return run_cli(["launch", "--workers", "2", "--servers", "1", "--timeout", "400", "--",
                        "train", "--data", dist_data_dir, "--batch-size", "512", "--out", str(out), "--no-progress",
                        "--no-report", "--sparse", "--model", kind, "--epochs", "1", "--lr", "0.01"],
                       timeout=450), out
    with ThreadPoolExecutor(AT_ONCE) as pool:
        return dict(zip(ZOO, pool.map(job, ZOO)))


@pytest.mark.parametrize("kind", ZOO)
def test_a_sparse_parameter_server_job_trains_the_model(kind, zoo_jobs):
    result, out = zoo_jobs[kind]
    assert result.returncode == 0, result.stdout
    digests = re.findall(r"rank (\d): parameters sha256 ([0-9a-f]{64})", result.stdout)
    assert len(digests) == 2 and digests[0][1] == digests[1][1], result.stdout
    auc = float(re.findall(rf"{kind} epoch 1/1: .*test AUC ([0-9.]+)", result.stdout)[0])
    assert auc > 0.6, result.stdout
    saved = mx.nd.load(str(out / "model.params"))
    assert {f"{table}.weight" for table in get_spec(kind).tables} <= set(saved)

"""Every zoo model trains on the parameter servers: one tiny sparse job per
model (scheduler, one server, two workers as processes, 1 epoch), whose
workers end with the same parameters and a model better than chance."""
import re

import mxnet as mx
import pytest

from deepfm_gluon.models import get_spec

from .conftest import run_cli

ZOO = ["lr", "widedeep", "nfm", "dcnv2", "xdeepfm", "autoint"]


@pytest.mark.parametrize("kind", ZOO)
def test_a_sparse_parameter_server_job_trains_the_model(kind, dist_data_dir, tmp_path):
    out = tmp_path / kind
    result = run_cli(["launch", "--workers", "2", "--servers", "1", "--timeout", "150", "--",
                      "train", "--data", dist_data_dir, "--batch-size", "512", "--out", str(out), "--no-progress",
                      "--sparse", "--model", kind, "--epochs", "1", "--lr", "0.01"], timeout=180)
    assert result.returncode == 0, result.stdout
    digests = re.findall(r"rank (\d): parameters sha256 ([0-9a-f]{64})", result.stdout)
    assert len(digests) == 2 and digests[0][1] == digests[1][1], result.stdout
    auc = float(re.findall(rf"{kind} epoch 1/1: .*test AUC ([0-9.]+)", result.stdout)[0])
    assert auc > 0.6, result.stdout
    saved = mx.nd.load(str(out / "model.params"))
    assert {f"{table}.weight" for table in get_spec(kind).tables} <= set(saved)
